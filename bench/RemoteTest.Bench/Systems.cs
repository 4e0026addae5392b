using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Bench;

/// <summary>A running system that speaks the wire contract: its URL and the processes that make it up.</summary>
public abstract class SystemUnderTest : IAsyncDisposable
{
    /// <summary>Short name used in the table ("embedded", "original").</summary>
    public required string Name { get; init; }

    /// <summary>What it is, one line (topology, storage).</summary>
    public required string Description { get; init; }

    public required Uri Url { get; init; }

    /// <summary>The processes whose memory and CPU belong to the system (descendants are added when measured).</summary>
    public abstract IReadOnlyCollection<int> Pids { get; }

    /// <summary>True for RemoteTest systems the harness started: they get the long soak workload too.</summary>
    public abstract bool IsRemoteTest { get; }

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}

/// <summary>A system started by someone else (the original, run by the anchor's setup script): only measured.</summary>
public sealed class ExternalSystem(IReadOnlyCollection<int> pids, bool isRemoteTest) : SystemUnderTest
{
    public override IReadOnlyCollection<int> Pids => pids;

    public override bool IsRemoteTest => isRemoteTest;

    /// <summary>Reads every <c>*.pid</c> file of a directory (the anchor's setup script writes redis, worker, api).</summary>
    public static IReadOnlyCollection<int> PidsFromDirectory(string? directory) =>
        directory is null
            ? []
            : Directory.EnumerateFiles(directory, "*.pid")
                .Select(f => int.TryParse(File.ReadAllText(f).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0)
                .Where(p => p > 0).ToArray();
}

/// <summary>
/// RemoteTest processes started by the harness from the built service (<c>dotnet RemoteTest.dll</c>), each with
/// its output in a log file, stopped (SIGTERM, then SIGKILL after a bounded wait) when disposed.
/// </summary>
public sealed class RemoteTestSystem : SystemUnderTest
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private readonly List<Process> _processes = [];

    public override IReadOnlyCollection<int> Pids => _processes.Where(p => !p.HasExited).Select(p => p.Id).ToArray();

    public override bool IsRemoteTest => true;

    /// <summary>Where the processes write their output.</summary>
    public required string LogDirectory { get; init; }

    /// <summary>
    /// Starts one process per entry of <paramref name="nodes"/> (role name → settings as <c>--Key=value</c>).
    /// The first node must hold the API: the harness talks to it and waits for it to answer.
    /// </summary>
    public static async Task<RemoteTestSystem> StartAsync(string name, string description, string dll, string logDirectory,
        IReadOnlyList<(string Node, IReadOnlyDictionary<string, string> Settings)> nodes, IReadOnlyDictionary<string, string> environment,
        CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(logDirectory);
        var port = FreeLoopbackPort();
        var url = new Uri($"http://127.0.0.1:{port}");
        var system = new RemoteTestSystem { Name = name, Description = description, Url = url, LogDirectory = logDirectory };
        try
        {
            for (var i = 0; i < nodes.Count; i++)
            {
                var (node, settings) = nodes[i];
                // Only the API node listens where the harness talks; other nodes take a free port of their own.
                var listen = i == 0 ? url.ToString().TrimEnd('/') : $"http://127.0.0.1:{FreeLoopbackPort()}";
                var args = settings.Select(kv => $"--{kv.Key}={kv.Value}").Append($"--urls={listen}");
                system._processes.Add(Launch(dll, args, environment, Path.Combine(logDirectory, $"{name}-{node}.log")));
            }
            using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var started = Stopwatch.GetTimestamp();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (system._processes.FirstOrDefault(p => p.HasExited) is { } dead)
                {
                    throw new BenchException($"{name}: a RemoteTest process exited with code {dead.ExitCode} during start; see {logDirectory}");
                }
                try
                {
                    using var response = await probe.GetAsync(url, cancellationToken);
                    // Scaled out, the API refuses a queue no live worker serves: wait for every worker's heartbeat too.
                    if (response.IsSuccessStatusCode && (nodes.Count == 1 || await LiveWorkersAsync(probe, url, cancellationToken) >= nodes.Count - 1))
                    {
                        return system;
                    }
                }
                catch (HttpRequestException)
                {
                }
                if (Stopwatch.GetElapsedTime(started) > StartTimeout)
                {
                    throw new BenchException($"{name}: no answer on {url} within {StartTimeout.TotalSeconds} s; see {logDirectory}");
                }
                await Task.Delay(100, cancellationToken);
            }
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    private static async Task<int> LiveWorkersAsync(HttpClient probe, Uri url, CancellationToken cancellationToken)
    {
        using var response = await probe.GetAsync(new Uri(url, "/workers"), cancellationToken);
        return response.IsSuccessStatusCode
            && System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))?["count"]?.GetValue<int>() is { } n ? n : 0;
    }

    /// <summary>
    /// <c>sh -c 'exec dotnet …'</c>: the process id is the service's own, and its output goes to a file rather
    /// than through a pipe the harness would have to drain (and pay for) while measuring.
    /// </summary>
    private static Process Launch(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, string logFile)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("exec dotnet \"$0\" \"$@\" >>\"$LOGFILE\" 2>&1 </dev/null");
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["LOGFILE"] = logFile;
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }
        info.WorkingDirectory = Path.GetDirectoryName(dll)!;
        return Process.Start(info) ?? throw new BenchException("could not start dotnet");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var p in _processes.Where(p => !p.HasExited))
        {
            // SIGTERM: the host stops gracefully (Hangfire drains, the store closes, the lock file goes).
            using var term = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
        }
        foreach (var p in _processes)
        {
            using var wait = new CancellationTokenSource(StopTimeout);
            try
            {
                await p.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                p.Kill(entireProcessTree: true);
            }
            p.Dispose();
        }
        _processes.Clear();
        await base.DisposeAsync();
    }
}
