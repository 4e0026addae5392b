using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
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
            using var pin = await embedded.Http.PostAsJsonAsync($"/task/{finished}/baseline", new { name = "pre-cutover" });
            Assert.True(pin.IsSuccessStatusCode, await pin.Content.ReadAsStringAsync());
            var tokens = (RemoteTest.Security.IApiTokenStore)embedded.Services.GetRequiredService<ITaskStore>();
            Assert.True(await tokens.AddTokenAsync(new RemoteTest.Security.StoredApiToken("ci", "hash-ci", ["submit", "read"], null, DateTimeOffset.UtcNow, null, null), CancellationToken.None));
            Assert.True(await tokens.AddTokenAsync(new RemoteTest.Security.StoredApiToken("old", "hash-old", ["read"], null, DateTimeOffset.UtcNow, null, null), CancellationToken.None));
            Assert.True(await tokens.RevokeTokenAsync("old", DateTimeOffset.UtcNow, CancellationToken.None));
        }

        var output = new StringWriter();
        var exit = await MigrateCommand.RunAsync(["--from", _dataDirectory, $"--RemoteTest:Storage:ConnectionString={postgres}"], output);
        Assert.True(exit == 0, output.ToString());
        Assert.Contains("migrated 2 of 2 tasks", output.ToString());
        Assert.Contains("1 unfinished tasks left PENDING", output.ToString());
        Assert.Contains("1 new baselines, 2 new managed tokens", output.ToString());

        // Running it again copies nothing twice.
        var again = new StringWriter();
        Assert.Equal(0, await MigrateCommand.RunAsync(["--from", _dataDirectory, $"--RemoteTest:Storage:ConnectionString={postgres}"], again));
        Assert.Contains("migrated 0 of 2 tasks (2 already present)", again.ToString());
        Assert.Contains("0 new baselines, 0 new managed tokens", again.ToString());

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

        // The baseline and the managed tokens came along; a revoked token is still revoked.
        var baseline = (await cluster.Http.GetFromJsonAsync<JsonObject>("/baselines/pre-cutover"))!;
        Assert.Contains(finished, baseline.ToJsonString());
        var moved = (RemoteTest.Security.IApiTokenStore)cluster.Services.GetRequiredService<ITaskStore>();
        Assert.Null((await moved.FindTokenByHashAsync("hash-ci", CancellationToken.None))!.Revoked);
        Assert.NotNull((await moved.GetTokenAsync("old", CancellationToken.None))!.Revoked);
    }

    [Fact]
    public async Task Without_a_connection_string_it_says_what_is_missing()
    {
        var output = new StringWriter();
        Assert.Equal(2, await MigrateCommand.RunAsync(["--from", _dataDirectory, "--RemoteTest:Storage:ConnectionString="], output));
        Assert.Contains("Storage:ConnectionString", output.ToString());
    }
}
