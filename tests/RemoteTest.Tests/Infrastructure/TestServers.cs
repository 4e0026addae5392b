using System.Diagnostics;
using Npgsql;

namespace RemoteTest.Tests.Infrastructure;

/// <summary>
/// Real PostgreSQL and RabbitMQ servers for the scale-out tests, started by <c>scripts/pg.sh</c> and
/// <c>scripts/rabbitmq.sh</c> (which install Debian's packages once) on free loopback ports in a temporary
/// directory, and stopped by PID. Tests skip only when <c>REMOTETEST_SKIP_SERVERS=1</c> says so.
/// </summary>
public static class TestServers
{
    public const string SkipVariable = "REMOTETEST_SKIP_SERVERS";

    /// <summary>True when the run was told to leave out tests that need PostgreSQL or RabbitMQ.</summary>
    public static bool Skipped => Environment.GetEnvironmentVariable(SkipVariable) == "1";

    public const string SkipReason = "REMOTETEST_SKIP_SERVERS=1: this test needs real PostgreSQL/RabbitMQ servers and was skipped as asked";

    /// <summary>The repository's <c>scripts</c> directory, found from the test output directory upwards.</summary>
    public static string ScriptsDirectory
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "scripts", "pg.sh");
                if (File.Exists(candidate))
                {
                    return Path.GetDirectoryName(candidate)!;
                }
            }
            throw new InvalidOperationException("scripts/pg.sh not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Runs a script and returns its last output line; throws with its output when it fails.</summary>
    public static async Task<string> RunScriptAsync(string script, params string[] args)
    {
        var info = new ProcessStartInfo(Path.Combine(ScriptsDirectory, script))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        // Installing the package may take minutes on a fresh machine; starting takes seconds.
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(cts.Token);
        var output = await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed ({process.ExitCode}): {output}{await stderr}");
        }
        return output.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";
    }

    public static string TempDirectory(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"remotetest-{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }
}

/// <summary>A server run by one of the scripts (<c>start DIR PORT</c>, <c>stop DIR</c>) in a temporary directory of its own.</summary>
public abstract class ScriptedServer : IAsyncDisposable
{
    private readonly string _script;
    private readonly string _root;
    private readonly string _dataDirectory;

    protected ScriptedServer(string script, string name)
    {
        _script = script;
        _root = TestServers.TempDirectory(name);
        _dataDirectory = Path.Combine(_root, name);
        Port = ServiceProcess.FreePort();
    }

    public int Port { get; }

    /// <summary>What the script printed at start: the client connection string.</summary>
    public string ConnectionString { get; private set; } = "";

    protected async Task StartFirstAsync() => ConnectionString = await StartAgainAsync();

    /// <summary>Stops the server by the PID in its directory, as an operator's restart or a failover would.</summary>
    public virtual Task StopAsync() => TestServers.RunScriptAsync(_script, "stop", _dataDirectory);

    /// <summary>Starts the same server again on the same port, with the data it had.</summary>
    public Task<string> StartAgainAsync() => TestServers.RunScriptAsync(_script, ["start", _dataDirectory, Port.ToString(), .. StartArguments]);

    /// <summary>What the script's <c>start</c> takes after DIR and PORT.</summary>
    protected virtual string[] StartArguments => [];

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A throw-away PostgreSQL server; each test takes a database of its own with <see cref="CreateDatabaseAsync"/>.</summary>
public sealed class PostgresServer : ScriptedServer
{
    private PostgresServer() : base("pg.sh", "pg")
    {
    }

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer();
        await server.StartFirstAsync();
        return server;
    }

    /// <summary>A new empty database; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "rt_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await cmd.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    public override Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return base.StopAsync();
    }
}

/// <summary>
/// A throw-away RabbitMQ broker (its own node name, cookie, epmd and distribution ports, all on loopback); its
/// quorum queues survive a stop and start. Clusters share one broker apart by a queue-name prefix of their own.
/// </summary>
public sealed class RabbitMqServer : ScriptedServer
{
    private readonly TimeSpan? _consumerTimeout;

    private RabbitMqServer(TimeSpan? consumerTimeout) : base("rabbitmq.sh", "rabbitmq") => _consumerTimeout = consumerTimeout;

    /// <param name="consumerTimeout">The broker's <c>consumer_timeout</c>; the script's default (1 hour) when null.</param>
    public static async Task<RabbitMqServer> StartAsync(TimeSpan? consumerTimeout = null)
    {
        var server = new RabbitMqServer(consumerTimeout);
        await server.StartFirstAsync();
        return server;
    }

    protected override string[] StartArguments =>
        _consumerTimeout is { } t ? [((long)t.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)] : [];
}
