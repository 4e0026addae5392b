using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Store;

/// <summary><c>RemoteTest migrate</c>: the embedded store's tasks, schedules and keys move into PostgreSQL and keep working there.</summary>
[Collection(ServersCollection.Name)]
public sealed class MigrateCommandTests(ServersFixture servers) : IAsyncLifetime
{
    private readonly string _dataDirectory = TestServers.TempDirectory("migrate");
    private DnsTestServer _dns = null!;

    public Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("up.test", "192.0.2.10");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_dataDirectory, recursive: true);
    }

    private JsonObject Check(string? queue = null)
    {
        var payload = new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["up.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.10") } },
        };
        if (queue is not null)
        {
            payload["queue"] = queue;
        }
        return payload;
    }

    [SkippableFact]
    public async Task Tasks_schedules_and_keys_move_to_PostgreSQL_and_unfinished_tasks_run_there()
    {
        var postgres = await (await servers.PostgresAsync()).CreateDatabaseAsync();
        string finished, waiting;
        await using (var embedded = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "embedded",
            ["RemoteTest:DataDirectory"] = _dataDirectory,
            ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer,
            // "later" has no worker yet: its task is still PENDING when the store is migrated.
            ["RemoteTest:Cluster:AllowQueuesWithoutWorkers"] = "true",
        }))
        {
            finished = (await embedded.SubmitAsync(Check()));
            Assert.Equal("SUCCESS", (await embedded.WaitAsync(finished))["state"]!.GetValue<string>());
            waiting = await embedded.SubmitAsync(Check("later"));
        }

        var output = new StringWriter();
        var exit = await MigrateCommand.RunAsync(["--from", _dataDirectory, $"--RemoteTest:Storage:ConnectionString={postgres}"], output);
        Assert.True(exit == 0, output.ToString());
        Assert.Contains("migrated 2 of 2 tasks", output.ToString());
        Assert.Contains("1 unfinished tasks left PENDING", output.ToString());

        // Running it again copies nothing twice.
        var again = new StringWriter();
        Assert.Equal(0, await MigrateCommand.RunAsync(["--from", _dataDirectory, $"--RemoteTest:Storage:ConnectionString={postgres}"], again));
        Assert.Contains("migrated 0 of 2 tasks (2 already present)", again.ToString());

        await using var cluster = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "postgres",
            ["RemoteTest:Storage:ConnectionString"] = postgres,
            ["RemoteTest:Queue:RabbitMq"] = (await servers.RabbitMqAsync()).ConnectionString,
            ["RemoteTest:Queue:Prefix"] = $"rt-{Guid.NewGuid():N}.",
            // The migrated PENDING task has no message: the reconciler publishes it.
            ["RemoteTest:Cluster:RequeuePendingAfter"] = "00:00:01",
            ["RemoteTest:Cluster:HeartbeatInterval"] = "00:00:00.500",
            ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer,
            ["RemoteTest:Worker:Queues:0"] = "later",
            ["RemoteTest:Targets:Allow:0"] = "127.0.0.0/8",
        });
        var kept = (await cluster.Http.GetFromJsonAsync<JsonObject>($"/task/{finished}"))!;
        Assert.Equal("SUCCESS", kept["state"]!.GetValue<string>());
        Assert.Equal("original", kept["result"]!["results"]!["up.test"]!["state"]!.GetValue<string>());
        var ran = await cluster.WaitAsync(waiting, TimeSpan.FromSeconds(60));
        Assert.Equal("SUCCESS", ran["state"]!.GetValue<string>());
        Assert.Equal("later", ran["queue"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_a_connection_string_it_says_what_is_missing()
    {
        var output = new StringWriter();
        Assert.Equal(2, await MigrateCommand.RunAsync(["--from", _dataDirectory, "--RemoteTest:Storage:ConnectionString="], output));
        Assert.Contains("Storage:ConnectionString", output.ToString());
    }
}
