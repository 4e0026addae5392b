using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Engine;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tasks;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.Security;

namespace RemoteTest.Tests;

/// <summary>The embedded default keeps every task across a restart and a crash (at-least-once, like Celery's acks_late).</summary>
public sealed class DurabilityTests : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "remotetest-test-" + Guid.NewGuid().ToString("N"));
    private DnsTestServer _dns = null!;

    public Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("up.test", "192.0.2.10");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Dictionary<string, string?> Embedded(int concurrency = 4) => new()
    {
        ["RemoteTest:Storage:Kind"] = "embedded",
        ["RemoteTest:DataDirectory"] = _dataDirectory,
        ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer,
        ["RemoteTest:Worker:Concurrency"] = concurrency.ToString(),
        // These tests interrupt running tasks: no grace period for them to finish at shutdown.
        ["RemoteTest:Worker:ShutdownGrace"] = "00:00:00",
    };

    private static JsonObject Check(string domain, double timeout) => new()
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { [domain] = new JsonObject { ["original"] = new JsonArray("192.0.2.10") } }),
            ["kwargs"] = new JsonObject { ["timeout"] = timeout },
        },
    };

    [Fact]
    public async Task Extra_messages_for_a_task_running_in_this_process_do_not_run_it_again()
    {
        // The store lets a worker claim its own STARTED task again (a restart of the same name takes it back),
        // so only the process itself can tell a duplicate message (a sweep's, a redelivery) from a new start.
        var task = new SecretHoldingTask();
        await using var host = await ServiceHost.StartAsync(Embedded(concurrency: 4), s => s.AddSingleton<IRemoteTask>(task));
        var id = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "test.secret_holding",
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["user"] = "u", ["password"] = "p" }) },
        });
        await task.Started.WaitAsync(TimeSpan.FromSeconds(30));
        var queue = host.Services.GetRequiredService<ITaskQueue>();
        await queue.EnqueueAsync(Guid.Parse(id), "default", CancellationToken.None);
        await queue.EnqueueAsync(Guid.Parse(id), "default", CancellationToken.None);

        // Both extra messages are taken (and end as no-ops) while the first run still holds the task.
        await Eventually.GetAsync(() => queue.DepthAsync("default", CancellationToken.None), d => d == 0, TimeSpan.FromSeconds(15), "the extra messages taken");
        await Task.Delay(300);
        Assert.Equal(1, task.Runs);
        Assert.Equal(1, host.Services.GetRequiredService<RunningTasks>().Count);
        task.Release();
        Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());
        Assert.Equal(1, task.Runs);
    }

    [Fact]
    public async Task Restart_keeps_finished_results_and_runs_queued_tasks()
    {
        _dns.Silent("hold.test");
        string finished, interrupted, queued;
        await using (var first = await ServiceHost.StartAsync(Embedded(concurrency: 1)))
        {
            finished = await first.SubmitAsync(Check("up.test", 2));
            Assert.Equal("SUCCESS", (await first.WaitAsync(finished))["state"]!.GetValue<string>());

            // One worker thread: the first task holds it on a silent name, the second waits in the queue.
            interrupted = await first.SubmitAsync(Check("hold.test", 20));
            queued = await first.SubmitAsync(Check("up.test", 2));
            await WaitForStateAsync(first.Http, interrupted, "STARTED");
            Assert.Equal("PENDING", (await first.Http.GetFromJsonAsync<JsonObject>($"/task/{queued}"))!["state"]!.GetValue<string>());
        }

        _dns.Unsilence("hold.test").A("hold.test", "192.0.2.10");
        await using var second = await ServiceHost.StartAsync(Embedded());
        var kept = (await second.Http.GetFromJsonAsync<JsonObject>($"/task/{finished}"))!;
        Assert.Equal("SUCCESS", kept["state"]!.GetValue<string>());
        Assert.Equal("original", kept["result"]!["results"]!["up.test"]!["state"]!.GetValue<string>());

        var rerun = await second.WaitAsync(interrupted);
        Assert.Equal("SUCCESS", rerun["state"]!.GetValue<string>());
        Assert.Equal("original", rerun["result"]!["results"]!["hold.test"]!["state"]!.GetValue<string>());
        Assert.Equal("SUCCESS", (await second.WaitAsync(queued))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_task_running_when_the_process_is_killed_runs_again_after_restart()
    {
        _dns.Silent("crash.test");
        var settings = Embedded().ToDictionary(kv => kv.Key, kv => kv.Value!);
        string id;
        await using (var service = await ServiceProcess.StartAsync(settings))
        {
            id = (await (await service.Http.PostAsJsonAsync("/task", Check("crash.test", 20))).Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
            await WaitForStateAsync(service.Http, id, "STARTED");
            for (var i = 0; i < 250 && _dns.QueriesFor("crash.test") == 0; i++)
            {
                await Task.Delay(20);
            }
            await service.KillAsync();
        }
        Assert.Equal(1, _dns.QueriesFor("crash.test"));

        _dns.Unsilence("crash.test").A("crash.test", "192.0.2.10");
        await using var restarted = await ServiceProcess.StartAsync(settings);
        var status = await TaskPolling.WaitAsync(restarted.Http, id, TimeSpan.FromSeconds(30));
        Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
        Assert.Equal("original", status["result"]!["results"]!["crash.test"]!["state"]!.GetValue<string>());
        Assert.True(_dns.QueriesFor("crash.test") >= 2);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    public async Task Settings_files_are_watched_only_when_the_operator_asks(string? reload, bool watched)
    {
        // The data directory inside the content root (the default layout): a watcher would wake on every write of the store.
        var inside = Path.Combine(AppContext.BaseDirectory, "data-watch-" + Guid.NewGuid().ToString("N"));
        var settings = Embedded().ToDictionary(kv => kv.Key, kv => kv.Value!);
        settings["RemoteTest:DataDirectory"] = inside;
        if (reload is not null)
        {
            settings[Program.ReloadOnChangeKey] = reload;
        }
        try
        {
            await using var service = await ServiceProcess.StartAsync(settings);
            var response = await service.Http.PostAsJsonAsync("/task", Check("watch.test", 1));
            Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
            var inotify = Directory.GetFiles($"/proc/{service.Pid}/fd")
                .Count(fd => new FileInfo(fd).LinkTarget is "anon_inode:inotify");
            Assert.Equal(watched, inotify > 0);
        }
        finally
        {
            Directory.Delete(inside, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_process_cannot_open_the_same_data_directory()
    {
        await using var first = await ServiceHost.StartAsync(Embedded());
        var ex = Assert.Throws<StartupException>(() => Program.Build([], b =>
            Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(b.Configuration, Embedded())));
        Assert.Contains("RemoteTest:DataDirectory", ex.Message);
        Assert.Contains("in use", ex.Message);
    }

    [Theory]
    [InlineData("--RemoteTest:Storage:Kind=bogus", "RemoteTest:Storage:Kind")]
    [InlineData("--RemoteTest:Roles=janitor", "RemoteTest:Roles")]
    [InlineData("--RemoteTest:Roles=api", "RemoteTest:Roles")]
    [InlineData("--RemoteTest:Worker:Concurrency=0", "RemoteTest:Worker:Concurrency")]
    [InlineData("--RemoteTest:Worker:Queues:0=Not A Queue", "RemoteTest:Worker:Queues")]
    [InlineData("--RemoteTest:Storage:Redis=127.0.0.1:6379", "RemoteTest:Storage:Redis")]
    [InlineData("--RemoteTest:Queue:RabbitMq=amqp://u:p@127.0.0.1:1/", "RemoteTest:Queue:RabbitMq")]
    [InlineData("--RemoteTest:Retention:CleanupCron=daily", "RemoteTest:Retention:CleanupCron")]
    public async Task A_bad_configuration_value_stops_start_up_with_one_line_and_exit_code_2(string arg, string setting)
    {
        var (code, output) = await ServiceProcess.RunToExitAsync(
            [arg, $"--RemoteTest:DataDirectory={_dataDirectory}", "--urls=http://127.0.0.1:0"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(setting, lines[0]);
    }

    [Theory]
    [InlineData("--contentRoot=/nonexistent/remotetest", "directory not found: /nonexistent/remotetest")]
    [InlineData("--urls=http://127.0.0.1:notaport", "urls: 'http://127.0.0.1:notaport' has no valid port")]
    [InlineData("--RemoteTest:DataDirectory=/proc/remotetest-cannot-exist", "RemoteTest:DataDirectory: cannot create")]
    public async Task A_start_up_error_is_one_line_and_exit_code_2_not_a_stack_trace(string arg, string expected)
    {
        var args = new List<string> { arg };
        if (!arg.StartsWith("--urls", StringComparison.Ordinal))
        {
            args.Add("--urls=http://127.0.0.1:0");
        }
        if (!arg.Contains("DataDirectory", StringComparison.Ordinal))
        {
            args.Add($"--RemoteTest:DataDirectory={_dataDirectory}");
        }
        var (code, output) = await ServiceProcess.RunToExitAsync(args, TimeSpan.FromSeconds(30));
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Postgres_without_a_RabbitMQ_URI_stops_start_up_with_one_line_and_exit_code_2()
    {
        var (code, output) = await ServiceProcess.RunToExitAsync(
            ["--RemoteTest:Storage:Kind=postgres", "--RemoteTest:Storage:ConnectionString=Host=127.0.0.1;Password=pg-secret-1",
             "--RemoteTest:Roles=api", "--urls=http://127.0.0.1:0"], TimeSpan.FromSeconds(30));
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("RemoteTest:Queue:RabbitMq: required when RemoteTest:Storage:Kind is postgres", line);
        Assert.DoesNotContain("pg-secret-1", line);
    }

    [Fact]
    public async Task A_task_whose_stored_arguments_cannot_be_loaded_ends_FAILURE_not_stuck_STARTED()
    {
        await using var host = await ServiceHost.StartAsync();
        var store = host.Services.GetRequiredService<RemoteTest.Store.ITaskStore>();
        // Arguments that are not JSON (a corrupted row, or one written by a broken version): the runner cannot load them.
        var broken = RemoteTest.Store.TaskRecord.New("dns.check_records", "default", "{not json", RemoteTest.Security.Caller.AnonymousName, DateTimeOffset.UtcNow);
        await store.InsertAsync(broken, CancellationToken.None);
        await host.Services.GetRequiredService<ITaskQueue>().EnqueueAsync(broken.Id, "default", CancellationToken.None);
        var done = await host.WaitAsync(broken.Id.ToString());
        Assert.Equal("FAILURE", done["state"]!.GetValue<string>());
        Assert.Contains("Json", done["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Settings_come_from_environment_variables_with_the_double_underscore_mapping()
    {
        var (code, output) = await ServiceProcess.RunToExitAsync(["--urls=http://127.0.0.1:0"], TimeSpan.FromSeconds(30),
            new Dictionary<string, string> { ["REMOTETEST__STORAGE__KIND"] = "floppy", ["REMOTETEST__DATADIRECTORY"] = _dataDirectory });
        Assert.Equal(2, code);
        Assert.Contains("RemoteTest:Storage:Kind", output, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("floppy", output);
    }

    private static async Task WaitForStateAsync(HttpClient http, string id, string state)
    {
        for (var i = 0; i < 300; i++)
        {
            var status = (await http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!;
            if (status["state"]!.GetValue<string>() == state)
            {
                return;
            }
            await Task.Delay(20);
        }
        Assert.Fail($"task {id} never reached {state}");
    }
}
