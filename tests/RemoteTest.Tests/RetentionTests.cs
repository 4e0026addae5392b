using System.Net;
using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.Storage;
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

        // The clean-up is a Hangfire recurring job with the configured schedule.
        using (var connection = host.Services.GetRequiredService<JobStorage>().GetConnection())
        {
            var job = Assert.Single(connection.GetRecurringJobs(), j => j.Id == "remotetest-retention");
            Assert.Equal("*/5 * * * *", job.Cron);
        }

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
}
