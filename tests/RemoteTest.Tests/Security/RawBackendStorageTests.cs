using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RemoteTest.Tasks;
using RemoteTest.Tests.Infrastructure;
using RabbitMQ.Client;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Secrets at rest on the shared backends: every row of every PostgreSQL table and every message waiting in the
/// cluster's RabbitMQ queues (body and headers), read raw while a task with a password is queued and running, and
/// after it ended, hold no password in any plain encoding.
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

    [SkippableFact]
    public async Task Raw_PostgreSQL_rows_and_RabbitMQ_messages_hold_no_password_while_tasks_wait_or_run_nor_after()
    {
        var postgres = await (await servers.PostgresAsync()).CreateDatabaseAsync();
        var rabbitMq = (await servers.RabbitMqAsync()).ConnectionString;
        var prefix = $"rt-{Guid.NewGuid():N}.";
        var settings = new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "postgres",
            ["RemoteTest:Storage:ConnectionString"] = postgres,
            ["RemoteTest:Queue:RabbitMq"] = rabbitMq,
            ["RemoteTest:Queue:Prefix"] = prefix,
            ["RemoteTest:Worker:Name"] = $"raw-{Guid.NewGuid():N}",
            // The apptest waits in a queue no worker serves: it stays queued, with its message, for the first look.
            ["RemoteTest:Cluster:AllowQueuesWithoutWorkers"] = "true",
            // A shared backend denies loopback targets by default; the apptests here name 127.0.0.1 and never run.
            ["RemoteTest:Targets:Allow:0"] = "127.0.0.0/8",
        };
        // Queues a worker served once and that have none now: declared, so the broker keeps their messages.
        string[] waiting = [prefix + "nowhere", prefix + "elsewhere"];
        await DeclareAsync(rabbitMq, waiting);
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
        var dump = await DumpAsync(postgres, rabbitMq, waiting);
        Assert.Contains(running, dump.Tasks);
        Assert.Contains(queued, dump.Tasks);
        Assert.Contains(group, dump.Tasks);
        Assert.Contains("$protected", dump.Tasks);
        Assert.Contains("$protected", dump.Schedules);
        Assert.Contains(queued, dump.Queues);   // the message of the waiting apptest was read, where the queues live
        Assert.Contains(group, dump.Tasks);

        // Ended: the running task finished, the waiting ones revoked.
        task.Release();
        Assert.Equal("SUCCESS", (await host.WaitAsync(running, TimeSpan.FromSeconds(60)))["state"]!.GetValue<string>());
        using (await host.Http.DeleteAsync($"/task/{queued}"))
        {
        }
        Assert.Equal("REVOKED", (await host.WaitAsync(queued))["state"]!.GetValue<string>());
        dump = await DumpAsync(postgres, rabbitMq, waiting);
        Assert.Contains(running, dump.Tasks);
        Assert.Contains("******", dump.Tasks);
        Assert.Contains(queued, dump.Queues);   // nobody consumes "nowhere": the revoked task's message is still there
        Assert.DoesNotContain(Password, host.Logs.All);
    }

    /// <summary>What the raw storage holds, after each part was searched for the password.</summary>
    private sealed record Dump(string Tasks, string Schedules, string Queues);

    /// <summary>
    /// Reads every row of every table of the database as text (<c>row::text</c>, the whole row) and every message
    /// waiting in <paramref name="queues"/> (body, headers, properties), asserts that none holds the password, and
    /// returns them for checks that the right data was read.
    /// </summary>
    private static async Task<Dump> DumpAsync(string postgres, string rabbitMq, string[] queues)
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
        return new Dump(tables["remotetest.tasks"], tables["remotetest.schedules"], await DumpQueuesAsync(rabbitMq, queues));
    }

    private static async Task DeclareAsync(string rabbitMq, string[] queues)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(rabbitMq) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        foreach (var q in queues)
        {
            await channel.QueueDeclareAsync(q, durable: true, exclusive: false, autoDelete: false,
                arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }
    }

    /// <summary>Every message waiting in the queues, fetched without acknowledging (they go back when the channel closes).</summary>
    private static async Task<string> DumpQueuesAsync(string rabbitMq, string[] queues)
    {
        await using var connection = await new ConnectionFactory { Uri = new Uri(rabbitMq) }.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var all = new StringBuilder();
        var messages = 0;
        foreach (var q in queues)
        {
            while (await channel.BasicGetAsync(q, autoAck: false) is { } message)
            {
                messages++;
                var raw = new List<byte[]> { message.Body.ToArray(), Encoding.UTF8.GetBytes(message.BasicProperties.MessageId ?? "") };
                foreach (var (key, value) in message.BasicProperties.Headers ?? new Dictionary<string, object?>())
                {
                    raw.Add(Encoding.UTF8.GetBytes(key));
                    raw.Add(value as byte[] ?? Encoding.UTF8.GetBytes(value?.ToString() ?? ""));
                }
                var bytes = raw.SelectMany(b => b.Append((byte)'\n')).ToArray();
                RawStorage.AssertNoSecret($"RabbitMQ message in {q}", bytes, Password);
                all.Append(Encoding.UTF8.GetString(bytes));
            }
        }
        Assert.True(messages > 0, "the queues hold no message: nothing was read");
        return all.ToString();
    }
}
