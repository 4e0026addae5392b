using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace RemoteTest.Tests.Infrastructure;

/// <summary>
/// The service as a separate OS process (<c>dotnet RemoteTest.dll</c> from the test output directory), for
/// tests that kill, restart or run several nodes.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        // Generous: a cold first request on a machine busy with other builds can take tens of seconds.
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(100) };
    }

    public Uri BaseAddress { get; }
    public HttpClient Http { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the service with <paramref name="settings"/> as command-line configuration and waits until it answers.</summary>
    /// <param name="anyAnswer">Count any HTTP answer as started (a worker-only node serves no routes).</param>
    public static async Task<ServiceProcess> StartAsync(IDictionary<string, string> settings, int? port = null, TimeSpan? startTimeout = null, bool anyAnswer = false)
    {
        // A port picked here is free now, not when the process binds it: on "address already in use" try another.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(settings, port ?? FreePort(), startTimeout, anyAnswer);
            }
            catch (PortTakenException) when (port is null && attempt < 3)
            {
            }
        }
    }

    private sealed class PortTakenException(string message) : InvalidOperationException(message);

    private static async Task<ServiceProcess> StartOnceAsync(IDictionary<string, string> settings, int port, TimeSpan? startTimeout, bool anyAnswer)
    {
        var url = $"http://127.0.0.1:{port}";
        // Tests poll fast; the rate limiter has its own tests, so it is off unless a test sets it.
        var rateLimit = settings.ContainsKey("RemoteTest:Limits:RateLimit:PermitLimit") ? [] : new[] { "--RemoteTest:Limits:RateLimit:PermitLimit=0" };
        var process = Launch(settings.Select(kv => $"--{kv.Key}={kv.Value}").Concat(rateLimit).Append($"--urls={url}"));
        var service = new ServiceProcess(process, new Uri(url));
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow + (startTimeout ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline && !process.HasExited)
        {
            try
            {
                using var response = await service.Http.GetAsync("/");
                if (response.IsSuccessStatusCode || anyAnswer)
                {
                    return service;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(100);
        }
        var output = service.Output;
        await service.DisposeAsync();
        throw output.Contains("address already in use", StringComparison.OrdinalIgnoreCase)
            ? new PortTakenException($"port {port} was taken before the service bound it:\n{output}")
            : new InvalidOperationException($"service did not start on {url}:\n{output}");
    }

    /// <summary>Runs the service to completion (for start-up failures) and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IEnumerable<string> args, TimeSpan timeout,
        IDictionary<string, string>? environment = null)
    {
        using var process = Launch(args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>SIGKILL: no shutdown code runs, as in a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM, as systemd stops a unit; waits for the process to exit (bounded by <paramref name="timeout"/>).</summary>
    public async Task TerminateAsync(TimeSpan timeout)
    {
        if (Kill(_process.Id, 15) != 0)
        {
            throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
        }
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>
    /// A port that is free now, from below Linux's ephemeral range (32768-60999): the tests open many outgoing
    /// connections, and one of them could take a port from that range before the service binds it.
    /// </summary>
    public static int FreePort()
    {
        for (var i = 0; i < 200; i++)
        {
            var port = Random.Shared.Next(20000, 32000);
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }

    private static Process Launch(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "RemoteTest.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
