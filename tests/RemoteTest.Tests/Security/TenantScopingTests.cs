using System.Net;
using System.Text.Json.Nodes;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.Operations;

namespace RemoteTest.Tests.Security;

/// <summary>One tenant's hosts, ports and task ids are not shown to another: /metrics and /workers are scoped.</summary>
public sealed class TenantScopingTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task With_tokens_metrics_naming_targets_need_admin()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        using var read = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/metrics", tokens.Alice));
        Assert.Equal(HttpStatusCode.Forbidden, read.StatusCode);
        using var admin = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/metrics", tokens.Admin));
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Without_tokens_one_tenant_reads_its_metrics_anonymously()
    {
        await using var host = await ServiceHost.StartAsync();
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Workers_list_running_task_ids_only_to_their_owner_and_admin()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(), TestTasks.Add);
        await using var listener = new HoldingListener();
        var hang = new JsonObject { ["task_name"] = "test.hang", ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["port"] = listener.Port } } };
        using var submit = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", tokens.Alice, hang.ToJsonString()));
        Assert.Equal(HttpStatusCode.Accepted, submit.StatusCode);
        var id = JsonNode.Parse(await submit.Content.ReadAsStringAsync())!["task_id"]!.GetValue<string>();
        await listener.NextConnectionAsync(Wait);

        async Task<string[]> RunningAsSeenBy(string token)
        {
            using var response = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/workers", token));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            return body["workers"]!.AsArray().SelectMany(w => w!["running_tasks"]!.AsArray().Select(t => t!.GetValue<string>())).ToArray();
        }

        Assert.Contains(id, await RunningAsSeenBy(tokens.Admin));
        Assert.Contains(id, await RunningAsSeenBy(tokens.Alice));
        Assert.DoesNotContain(id, await RunningAsSeenBy(tokens.Bob));
        using (await host.Http.SendAsync(TestTokens.Request(HttpMethod.Delete, $"/task/{id}", tokens.Alice)))
        {
        }
    }
}
