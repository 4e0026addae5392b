namespace RemoteTest.Tests.Infrastructure;

/// <summary>Bounded polling for conditions that become true asynchronously.</summary>
public static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}; last: {value}");
            await Task.Delay(25);
        }
    }
}
