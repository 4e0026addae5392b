using System.Diagnostics;
using Npgsql;

namespace RemoteTest.Tests.Infrastructure;

/// <summary>
/// Real PostgreSQL and Redis servers for the scale-out tests, started by <c>scripts/pg.sh</c> and
/// <c>scripts/redis.sh</c> (which install Debian's packages once) on free loopback ports in a temporary
/// directory, and stopped by PID. Tests skip only when <c>REMOTETEST_SKIP_SERVERS=1</c> says so.
/// </summary>
public static class TestServers
{
    public const string SkipVariable = "REMOTETEST_SKIP_SERVERS";

    /// <summary>True when the run was told to leave out tests that need PostgreSQL or Redis.</summary>
    public static bool Skipped => Environment.GetEnvironmentVariable(SkipVariable) == "1";

    public const string SkipReason = "REMOTETEST_SKIP_SERVERS=1: this test needs real PostgreSQL/Redis servers and was skipped as asked";

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

/// <summary>A throw-away PostgreSQL server; each test takes a database of its own with <see cref="CreateDatabaseAsync"/>.</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _dataDirectory;

    private PostgresServer(string root, int port, string connectionString)
    {
        _root = root;
        _dataDirectory = Path.Combine(root, "pg");
        Port = port;
        ConnectionString = connectionString;
    }

    public int Port { get; }

    /// <summary>To the server's <c>postgres</c> database.</summary>
    public string ConnectionString { get; }

    public static async Task<PostgresServer> StartAsync()
    {
        var root = TestServers.TempDirectory("pg");
        var port = ServiceProcess.FreePort();
        var cs = await TestServers.RunScriptAsync("pg.sh", "start", Path.Combine(root, "pg"), port.ToString());
        return new PostgresServer(root, port, cs);
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

    /// <summary>Fast shutdown (SIGINT to the postmaster), as an operator's restart or a failover would.</summary>
    public Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        return TestServers.RunScriptAsync("pg.sh", "stop", _dataDirectory);
    }

    /// <summary>Starts the same cluster again on the same port.</summary>
    public Task StartAgainAsync() => TestServers.RunScriptAsync("pg.sh", "start", _dataDirectory, Port.ToString());

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

/// <summary>A throw-away Redis server (append-only file on, so a restart keeps the queues).</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly string _root;
    private readonly string _dataDirectory;

    private RedisServer(string root, int port, string connectionString)
    {
        _root = root;
        _dataDirectory = Path.Combine(root, "redis");
        Port = port;
        ConnectionString = connectionString;
    }

    public int Port { get; }
    public string ConnectionString { get; }

    public static async Task<RedisServer> StartAsync()
    {
        var root = TestServers.TempDirectory("redis");
        var port = ServiceProcess.FreePort();
        var cs = await TestServers.RunScriptAsync("redis.sh", "start", Path.Combine(root, "redis"), port.ToString());
        return new RedisServer(root, port, cs);
    }

    public Task StopAsync() => TestServers.RunScriptAsync("redis.sh", "stop", _dataDirectory);

    public Task StartAgainAsync() => TestServers.RunScriptAsync("redis.sh", "start", _dataDirectory, Port.ToString());

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
