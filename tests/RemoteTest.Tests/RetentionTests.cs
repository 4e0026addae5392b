using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Engine;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

public sealed class RetentionTests
{
    [Fact]
    public async Task Finished_tasks_older_than_the_retention_period_are_deleted_by_the_recurring_clean_up()
    {
        await using var dns = DnsTestServer.Start().A("kept.test", "192.0.2.1");
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Dns:DefaultNameservers:0"] = dns.NameServer,
            ["RemoteTest:Retention:Results"] = "00:00:00.500",
            ["RemoteTest:Retention:CleanupCron"] = "*/5 * * * *",
        });

        var id = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["kept.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } },
        });
        Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());

        // Run the job now rather than wait for its schedule: a young result survives, an expired one does not.
        var job2 = host.Services.GetRequiredService<RetentionJob>();
        await job2.RunAsync(CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync($"/task/{id}")).StatusCode);

        await Task.Delay(700);
        await job2.RunAsync(CancellationToken.None);
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/task/{id}")).StatusCode);
    }

    [Fact]
    public async Task The_clean_up_runs_by_itself_on_its_cron()
    {
        await using var dns = DnsTestServer.Start().A("gone.test", "192.0.2.1");
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Dns:DefaultNameservers:0"] = dns.NameServer,
            ["RemoteTest:Retention:Results"] = "00:00:00.500",
            ["RemoteTest:Retention:CleanupCron"] = "* * * * * *",   // every second (6 fields: seconds first)
        });
        var id = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["gone.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } },
        });
        Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());

        // Nobody calls the job: the engine's timer deletes the expired result within a few seconds.
        await Eventually.GetAsync(async () => (await host.Http.GetAsync($"/task/{id}")).StatusCode,
            s => s == HttpStatusCode.NotFound, TimeSpan.FromSeconds(15), "the expired task deleted by the timer");
    }

    [Fact]
    public void A_cleanup_cron_that_does_not_parse_stops_start_up()
    {
        var problems = StartupValidation.Validate(new RemoteTestOptions { Retention = new RetentionOptions { CleanupCron = "every day" } }).ToList();
        Assert.Contains(problems, p => p.StartsWith("RemoteTest:Retention:CleanupCron:", StringComparison.Ordinal));
    }
}
