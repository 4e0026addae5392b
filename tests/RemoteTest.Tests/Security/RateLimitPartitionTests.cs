using System.Collections;
using System.Net;
using System.Reflection;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RemoteTest.Security;

namespace RemoteTest.Tests.Security;

/// <summary>Rate-limit partitions (one per anonymous client address) are evicted when idle: memory stays bounded.</summary>
public sealed class RateLimitPartitionTests
{
    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }

    /// <summary>The partitions the runtime's partitioned limiter holds (its private dictionary: there is no public count).</summary>
    private static int Partitions(PartitionedRateLimiter<HttpContext> limiter)
    {
        var field = limiter.GetType().GetField("_limiters", BindingFlags.Instance | BindingFlags.NonPublic)
            ?? throw new InvalidOperationException($"{limiter.GetType()} has no _limiters field any more; update this test");
        var dictionary = (ICollection)field.GetValue(limiter)!;
        lock (dictionary)
        {
            return dictionary.Count;
        }
    }

    [Fact]
    public async Task Partitions_of_twenty_thousand_addresses_are_evicted_once_idle()
    {
        var time = new ManualTime();
        var options = Options.Create(new RemoteTestOptions());
        options.Value.Limits.RateLimit.PermitLimit = 5;
        var limits = new RequestRateLimits(Options.Create(options.Value.Limits), new ApiTokenDirectory(Options.Create(options.Value.Auth)), time, new AuditLog(NullLoggerFactory.Instance));
        var rateLimiterOptions = new RateLimiterOptions();
        limits.Configure(rateLimiterOptions);
        using var limiter = rateLimiterOptions.GlobalLimiter!;

        for (var i = 0; i < 20_000; i++)
        {
            var http = new DefaultHttpContext();
            http.Connection.RemoteIpAddress = new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);
            using var lease = limiter.AttemptAcquire(http);
            Assert.True(lease.IsAcquired);
        }
        Assert.True(Partitions(limiter) >= 20_000, $"{Partitions(limiter)} partitions");

        // A window later every address is idle; the runtime sweeps idle partitions every 100 ms (idle > 10 s).
        time.Advance(TimeSpan.FromMinutes(2));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (Partitions(limiter) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }
        Assert.Equal(0, Partitions(limiter));
    }

    [Fact]
    public void A_partition_in_use_in_the_current_window_is_not_idle()
    {
        var time = new ManualTime();
        using var limiter = new AlignedWindowLimiter(3, TimeSpan.FromMinutes(1), time);
        Assert.NotNull(limiter.IdleDuration);
        using (limiter.AttemptAcquire())
        {
        }
        Assert.Null(limiter.IdleDuration);
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(limiter.IdleDuration >= TimeSpan.FromMinutes(4), $"{limiter.IdleDuration}");
    }
}
