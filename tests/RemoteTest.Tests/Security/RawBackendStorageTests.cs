using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RemoteTest.Tasks;
using RemoteTest.Tests.Infrastructure;
using StackExchange.Redis;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Secrets at rest on the shared backends: every row of every PostgreSQL table (RemoteTest's and Hangfire's) and
/// every Redis key and value, read raw while a task with a password is queued and running, and after it ended,
/// hold no password in any plain encoding.
/// </summary>
[Collection(ServersCollection.Name)]
public sealed class RawBackendStorageTests(ServersFixture servers)
{
    private const string Password = "Pw-9d2f-raw-backend-never-stored";

    private static JsonObject AppTest(string queue) => new()
    {
        ["task_name"] = "apptest.run",
        ["queue"] = queue,
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject
            {
                ["127.0.0.1"] = new JsonObject
                {
                    ["applications"] = new JsonArray("Xsi-Actions"),
                    ["test_data"] = new JsonObject { ["user_id"] = "2059784479@example.net", ["password"] = Password },
                },
            }),
            ["kwargs"] = new JsonObject { ["timeout"] = 2 },
        },
    };

    [SkippableTheory]
    [InlineData(QueueBackend.Postgres)]
    [InlineData(QueueBackend.Redis)]
    public async Task Raw_PostgreSQL_rows_and_Redis_keys_hold_no_password_while_tasks_wait_or_run_nor_after(QueueBackend backend)
    {
        var postgres = await (await servers.PostgresAsync()).CreateDatabaseAsync();
        var redis = backend == QueueBackend.Redis ? (await servers.RedisAsync()).ConnectionString : null;
        var settings = new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "postgres",
            ["RemoteTest:Storage:ConnectionString"] = postgres,
            ["RemoteTest:Storage:QueuePollInterval"] = "00:00:00.200",
            ["RemoteTest:Worker:Name"] = $"raw-{Guid.NewGuid():N}",
            // The apptest waits in a queue no worker serves: it stays queued, with its job, for the first look.
            ["RemoteTest:Cluster:AllowQueuesWithoutWorkers"] = "true",
            // A shared backend denies loopback targets by default; the apptests here name 127.0.0.1 and never run.
            ["RemoteTest:Targets:Allow:0"] = "127.0.0.0/8",
        };
        if (redis is not null)
        {
            settings["RemoteTest:Storage:Redis"] = redis;
            settings["RemoteTest:Storage:RedisPrefix"] = $"{{rt-{Guid.NewGuid():N}}}:";
        }
        var task = new SecretHoldingTask();
        await using var host = await ServiceHost.StartAsync(settings, s => s.AddSingleton<IRemoteTask>(task));

        var running = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "test.secret_holding",
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["user"] = "admin", ["password"] = Password }) },
        });
        await task.Started.WaitAsync(TimeSpan.FromSeconds(60));
        var queued = await host.SubmitAsync(AppTest("nowhere"));
        var fanOut = AppTest("nowhere");
        fanOut.Remove("queue");
        fanOut["queues"] = new JsonArray("nowhere", "elsewhere");
        var group = await host.SubmitAsync(fanOut);
        var schedule = AppTest("nowhere");
        schedule["name"] = "raw-secret";
        schedule["cron"] = "0 0 1 1 *";
        using (var created = await host.Http.PostAsync("/schedules", new StringContent(schedule.ToJsonString(), Encoding.UTF8, "application/json")))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        // Queued and running: the store holds the password encrypted, the queues hold task ids only.
        var dump = await DumpAsync(postgres, redis);
        Assert.Contains(running, dump.Tasks);
        Assert.Contains(queued, dump.Tasks);
        Assert.Contains(group, dump.Tasks);
        Assert.Contains("$protected", dump.Tasks);
        Assert.Contains("$protected", dump.Schedules);
        Assert.Contains(queued, dump.Queues);   // the job of the waiting apptest was read, where the queues live
        Assert.Contains(running, dump.Queues);

        // Ended: the running task finished, the waiting ones revoked.
        task.Release();
        Assert.Equal("SUCCESS", (await host.WaitAsync(running, TimeSpan.FromSeconds(60)))["state"]!.GetValue<string>());
        using (await host.Http.DeleteAsync($"/task/{queued}"))
        {
        }
        Assert.Equal("REVOKED", (await host.WaitAsync(queued))["state"]!.GetValue<string>());
        dump = await DumpAsync(postgres, redis);
        Assert.Contains(running, dump.Tasks);
        Assert.Contains("******", dump.Tasks);
        Assert.Contains(running, dump.Queues);   // Hangfire keeps the succeeded job (its id argument only)
        Assert.DoesNotContain(Password, host.Logs.All);
    }

    /// <summary>What the raw storage holds, after each part was searched for the password.</summary>
    private sealed record Dump(string Tasks, string Schedules, string Queues);

    /// <summary>
    /// Reads every row of every table of the database as text (<c>row::text</c>, the whole row) and every Redis key
    /// with its value, asserts that none holds the password, and returns them for checks that the right data was read.
    /// </summary>
    private static async Task<Dump> DumpAsync(string postgres, string? redis)
    {
        var tables = new Dictionary<string, string>();
        await using (var connection = new NpgsqlConnection(postgres))
        {
            await connection.OpenAsync();
            var names = new List<string>();
            await using (var list = new NpgsqlCommand(
                "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables " +
                "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')", connection))
            await using (var reader = await list.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    names.Add(reader.GetString(0));
                }
            }
            Assert.Contains("remotetest.tasks", names);
            Assert.Contains("remotetest.data_protection_keys", names);
            if (redis is null)
            {
                Assert.Contains("hangfire.job", names);
                Assert.Contains("hangfire.jobparameter", names);
                Assert.Contains("hangfire.state", names);
            }
            foreach (var table in names)
            {
                var text = new StringBuilder();
                await using var select = new NpgsqlCommand($"SELECT t::text FROM {table} t", connection);
                await using var reader = await select.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    text.Append(reader.GetString(0)).Append('\n');
                }
                RawStorage.AssertNoSecret($"PostgreSQL table {table}", Encoding.UTF8.GetBytes(text.ToString()), Password);
                tables[table] = text.ToString();
            }
        }

        string queues;
        if (redis is null)
        {
            queues = string.Join('\n', tables.Where(t => t.Key.StartsWith("hangfire.", StringComparison.Ordinal)).Select(t => t.Value));
        }
        else
        {
            queues = await DumpRedisAsync(redis);
        }
        return new Dump(tables["remotetest.tasks"], tables["remotetest.schedules"], queues);
    }

    /// <summary>Every key of the Redis server (SCAN) with its value read by type; each searched for the password.</summary>
    private static async Task<string> DumpRedisAsync(string connectionString)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(connectionString);
        var db = redis.GetDatabase();
        var all = new StringBuilder();
        var keys = 0;
        foreach (var server in redis.GetServers())
        {
            await foreach (var key in server.KeysAsync(pattern: "*", pageSize: 500))
            {
                keys++;
                var raw = new List<byte[]> { (byte[])key! };
                switch (await db.KeyTypeAsync(key))
                {
                    case RedisType.String:
                        raw.Add((byte[])(await db.StringGetAsync(key))!);
                        break;
                    case RedisType.Hash:
                        foreach (var entry in await db.HashGetAllAsync(key))
                        {
                            raw.Add((byte[])entry.Name!);
                            raw.Add((byte[])entry.Value!);
                        }
                        break;
                    case RedisType.List:
                        raw.AddRange((await db.ListRangeAsync(key)).Select(v => (byte[])v!));
                        break;
                    case RedisType.Set:
                        raw.AddRange((await db.SetMembersAsync(key)).Select(v => (byte[])v!));
                        break;
                    case RedisType.SortedSet:
                        raw.AddRange((await db.SortedSetRangeByRankAsync(key)).Select(v => (byte[])v!));
                        break;
                    case RedisType.Stream:
                        foreach (var entry in await db.StreamRangeAsync(key))
                        {
                            raw.AddRange(entry.Values.SelectMany(v => new[] { (byte[])v.Name!, (byte[])v.Value! }));
                        }
                        break;
                    default:
                        break;   // expired while scanning
                }
                var bytes = raw.Where(b => b is not null).SelectMany(b => b.Append((byte)'\n')).ToArray();
                RawStorage.AssertNoSecret($"Redis key {key}", bytes, Password);
                all.Append(Encoding.UTF8.GetString(bytes));
            }
        }
        Assert.True(keys > 0, "Redis holds no keys: nothing was read");
        return all.ToString();
    }
}
