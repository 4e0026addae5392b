namespace RemoteTest.Cli;

/// <summary>The executable's entry point (a named class, not top-level statements: the service owns <c>Program</c>).</summary>
public static class EntryPoint
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // The first Ctrl+C stops waiting cleanly (the message says the task keeps running on the server and how
            // to cancel it); a second one, while that is still under way, ends the process at once as usual.
            if (!cancel.IsCancellationRequested)
            {
                e.Cancel = true;
                cancel.Cancel();
            }
        };
        return await CliApp.RunAsync(args, CliEnvironment.FromProcess(), cancel.Token);
    }
}
