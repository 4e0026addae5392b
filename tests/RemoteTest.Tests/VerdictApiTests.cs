using System.Net;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary><c>verdict</c> on the wire: the task answer, the history (and its filter), fan-out groups.</summary>
public sealed class VerdictApiTests
{
    private static JsonObject Ports(params int[] ports) => new()
    {
        ["task_name"] = "porttest.run",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)p)]) } }),
            ["kwargs"] = new JsonObject { ["timeout"] = 2.0, ["tls_ports"] = new JsonArray() },
        },
    };

    [Fact]
    public async Task Finished_tasks_carry_their_verdict_with_counts_and_the_history_filters_by_it()
    {
        await using var open = OpenPortListener.Start();
        using var closed = new ClosedPort();
        await using var host = await ServiceHost.StartAsync();

        var pass = await host.WaitAsync(await host.SubmitAsync(Ports(open.Port)));
        var partial = await host.WaitAsync(await host.SubmitAsync(Ports(open.Port, closed.Port)));
        var fail = await host.WaitAsync(await host.SubmitAsync(Ports(closed.Port)));

        // SUCCESS says the task ran; the verdict says whether its checks passed.
        Assert.All([pass, partial, fail], t => Assert.Equal("SUCCESS", t["state"]!.GetValue<string>()));
        Assert.Equal("pass", pass["verdict"]!.GetValue<string>());
        Assert.Equal("partial", partial["verdict"]!.GetValue<string>());
        Assert.Equal("fail", fail["verdict"]!.GetValue<string>());
        Assert.Equal(1, partial["checks"]!["passed"]!.GetValue<int>());
        Assert.Equal(1, partial["checks"]!["failed"]!.GetValue<int>());

        var failed = JsonNode.Parse(await host.Http.GetStringAsync("/task?verdict=fail"))!["tasks"]!.AsArray();
        Assert.Equal([fail["task_id"]!.GetValue<string>()], failed.Select(t => t!["task_id"]!.GetValue<string>()));
        Assert.Equal("fail", failed[0]!["verdict"]!.GetValue<string>());
        var all = JsonNode.Parse(await host.Http.GetStringAsync("/task"))!["tasks"]!.AsArray();
        Assert.Equal(["fail", "partial", "pass"], all.Select(t => t!["verdict"]!.GetValue<string>()));

        var bad = await host.Http.GetAsync("/task?verdict=maybe");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("verdict", JsonNode.Parse(await bad.Content.ReadAsStringAsync())!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_unfinished_task_has_a_null_verdict_and_a_revoked_one_keeps_none()
    {
        // A TLS port that never answers keeps the task running until its (long) timeout.
        await using var silent = SilentListener.Start();
        await using var host = await ServiceHost.StartAsync();
        var payload = Ports(silent.Port);
        payload["data"]!["kwargs"]!["tls_ports"] = new JsonArray(silent.Port);
        payload["data"]!["kwargs"]!["timeout"] = 30.0;
        var response = await host.PostTaskAsync(payload);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        var id = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["task_id"]!.GetValue<string>();
        var pending = JsonNode.Parse(await host.Http.GetStringAsync($"/task/{id}"))!;
        Assert.False(pending["ready"]!.GetValue<bool>());
        Assert.True(pending.AsObject().ContainsKey("verdict"));
        Assert.Null(pending["verdict"]);
        await host.Http.DeleteAsync($"/task/{id}");
        var revoked = JsonNode.Parse(await host.Http.GetStringAsync($"/task/{id}"))!;
        Assert.Equal("REVOKED", revoked["state"]!.GetValue<string>());
        Assert.Null(revoked["verdict"]);
    }
}
