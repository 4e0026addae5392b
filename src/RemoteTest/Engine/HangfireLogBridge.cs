using Hangfire.AspNetCore;
using Hangfire.Logging;

namespace RemoteTest.Engine;

/// <summary>
/// Hangfire's log provider is process-global; when a host stops (tests run many in one process) its logger
/// factory is disposed while the provider still points at it. This bridge falls back to silence instead of
/// throwing from Hangfire's own threads.
/// </summary>
public sealed class HangfireLogBridge(ILoggerFactory factory) : ILogProvider
{
    private readonly AspNetCoreLogProvider _inner = new(factory);

    public ILog GetLogger(string name)
    {
        try
        {
            return _inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Instance;
        }
    }

    private sealed class Silent : ILog
    {
        public static readonly Silent Instance = new();

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}
