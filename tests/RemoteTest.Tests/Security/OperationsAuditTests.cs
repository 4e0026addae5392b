using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Security;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>The audit log also records revokes and schedule changes: who, from where, what.</summary>
public sealed class OperationsAuditTests
{
    [Fact]
    public async Task Revokes_and_schedule_changes_are_audited_with_the_token_and_address()
    {
        var tokens = new TestTokens();
        await using var dns = DnsTestServer.Start().Silent("slow.test").A("up.test", "192.0.2.1");
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new() { ["RemoteTest:Dns:DefaultNameservers:0"] = dns.NameServer }));
        async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? json = null) =>
            await host.Http.SendAsync(TestTokens.Request(method, path, tokens.Alice, json));

        const string Data = """{"args": [{"slow.test": {"original": ["192.0.2.1"]}}], "kwargs": {"timeout": 30}}""";
        using var submitted = await Send(HttpMethod.Post, "/task", $$"""{"task_name": "dns.check_records", "data": {{Data}}}""");
        var id = (await submitted.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        using (var revoked = await Send(HttpMethod.Delete, $"/task/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        }
        var schedule = """{"name": "audited", "task_name": "dns.check_records", "cron": "0 0 1 1 *", "data": {"up.test": {"original": ["192.0.2.1"]}}}""";
        using (var created = await Send(HttpMethod.Post, "/schedules", schedule))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using (var replaced = await Send(HttpMethod.Post, "/schedules", schedule.Replace("0 0 1 1 *", "0 0 2 1 *")))
        {
            Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        }
        using (var ran = await Send(HttpMethod.Post, "/schedules/audited/run"))
        {
            Assert.Equal(HttpStatusCode.Accepted, ran.StatusCode);
        }
        using (var deleted = await Send(HttpMethod.Delete, "/schedules/audited"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var actions = host.Logs.Entries.Where(e => e.Category == AuditLog.Category && e.EventId.Name == "TaskAction").ToList();
        Assert.Equal(["revoked", "created", "replaced", "ran", "deleted"], actions.Select(a => (string)a.Properties["Action"]!));
        Assert.All(actions, a =>
        {
            Assert.Equal("alice", a.Properties["Principal"]);
            Assert.Equal("127.0.0.1", a.Properties["RemoteAddress"]);
        });
        Assert.Contains(id, (string)actions[0].Properties["Subject"]!);
        Assert.Contains("'0 0 2 1 *'", (string)actions[2].Properties["Subject"]!);
        Assert.Contains("schedule audited", (string)actions[4].Properties["Subject"]!);
    }
}
