using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.Operations;
using RemoteTest.Tests.Security;

namespace RemoteTest.Tests;

/// <summary>GET /task/{id}/diff, baselines (pin, list, unpin, owner scoping) and schedules compared with a baseline.</summary>
public sealed class DiffAndBaselineTests : IAsyncLifetime
{
    private DnsTestServer _dns = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _dns = DnsTestServer.Start()
            .A("sip.cutover.test", "192.0.2.10")
            .A("xsp.cutover.test", "192.0.2.20");
        _host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private static JsonObject DnsPayload() => new()
    {
        ["task_name"] = "dns.check_records",
        ["data"] = JsonNode.Parse("""
            {"sip.cutover.test": {"original": ["192.0.2.10"], "13056": ["192.0.2.11"]},
             "xsp.cutover.test": {"original": ["192.0.2.20"], "13056": ["192.0.2.21"]}}
            """),
    };

    private async Task<string> RunAsync(ServiceHost host, JsonObject payload, string? token = null)
    {
        using var response = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", token, payload.ToJsonString()));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            using var get = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, $"/task/{id}", token));
            var status = (await get.Content.ReadFromJsonAsync<JsonObject>())!;
            if (status["ready"]!.GetValue<bool>())
            {
                Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
                return id;
            }
            await Task.Delay(50, wait.Token);
        }
    }

    private static async Task<(HttpStatusCode Status, JsonObject Body)> SendAsync(ServiceHost host, HttpMethod method, string path, string? token = null, string? json = null)
    {
        using var response = await host.Http.SendAsync(TestTokens.Request(method, path, token, json));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? [] : JsonNode.Parse(text)!.AsObject());
    }

    [Fact]
    public async Task A_dns_change_is_one_changed_check_with_stable_keys_and_the_same_against_a_baseline()
    {
        var before = await RunAsync(_host, DnsPayload());
        var (pin, pinned) = await SendAsync(_host, HttpMethod.Post, $"/task/{before}/baseline", json: """{"name": "pre-cutover"}""");
        Assert.Equal(HttpStatusCode.Created, pin);
        Assert.Equal(before, pinned["task_id"]!.GetValue<string>());

        _dns.Clear("sip.cutover.test");
        _dns.A("sip.cutover.test", "192.0.2.11");
        var after = await RunAsync(_host, DnsPayload());

        foreach (var against in new[] { before, "baseline:pre-cutover" })
        {
            var (status, diff) = await SendAsync(_host, HttpMethod.Get, $"/task/{after}/diff?against={against}");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(diff["changed"]!.GetValue<bool>());
            Assert.Equal(before, diff["against"]!.GetValue<string>());
            Assert.Equal(against == before ? null : "pre-cutover", diff["baseline"]?.GetValue<string>());
            Assert.Equal("""{"changed":1,"unchanged":1,"added":0,"removed":0}""", diff["summary"]!.ToJsonString());
            var state = diff["differences"]!.AsArray().Single(d => d!["key"]!.GetValue<string>() == "dns/sip.cutover.test/state")!;
            Assert.Equal(("original", "13056"), (state["from"]!.GetValue<string>(), state["to"]!.GetValue<string>()));
            var retrieved = diff["differences"]!.AsArray().Single(d => d!["key"]!.GetValue<string>() == "dns/sip.cutover.test/retrieved")!;
            Assert.Equal("""["192.0.2.10"]""", retrieved["from"]!.ToJsonString());
            var xsp = diff["checks"]!.AsArray().Single(c => c!["key"]!.GetValue<string>() == "dns/xsp.cutover.test")!;
            Assert.Equal("unchanged", xsp["status"]!.GetValue<string>());
        }

        // Against itself nothing changed.
        var (_, same) = await SendAsync(_host, HttpMethod.Get, $"/task/{after}/diff?against={after}");
        Assert.False(same["changed"]!.GetValue<bool>());
        Assert.Equal("""{"changed":0,"unchanged":2,"added":0,"removed":0}""", same["summary"]!.ToJsonString());

        var (_, list) = await SendAsync(_host, HttpMethod.Get, "/baselines");
        Assert.Equal("pre-cutover", list["baselines"]![0]!["name"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, (await SendAsync(_host, HttpMethod.Delete, "/baselines/pre-cutover")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(_host, HttpMethod.Get, $"/task/{after}/diff?against=baseline:pre-cutover")).Status);
    }

    [Fact]
    public async Task Bad_input_is_400_naming_the_field_and_unknown_things_404()
    {
        var dns = await RunAsync(_host, DnsPayload());
        await using var open = OpenPortListener.Start();
        var ports = await RunAsync(_host, new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(open.Port) } },
        });
        foreach (var (path, method, body, code, field) in new (string, HttpMethod, string?, HttpStatusCode, string)[]
        {
            ($"/task/{dns}/diff", HttpMethod.Get, null, HttpStatusCode.BadRequest, "against"),
            ($"/task/{dns}/diff?against=nonsense", HttpMethod.Get, null, HttpStatusCode.BadRequest, "against"),
            ($"/task/{dns}/diff?against=baseline:bad%20name", HttpMethod.Get, null, HttpStatusCode.BadRequest, "against"),
            ($"/task/{dns}/diff?against={ports}", HttpMethod.Get, null, HttpStatusCode.BadRequest, "against"),
            ($"/task/{dns}/diff?against=baseline:nope", HttpMethod.Get, null, HttpStatusCode.NotFound, "against"),
            ($"/task/{dns}/diff?against={Guid.NewGuid()}", HttpMethod.Get, null, HttpStatusCode.NotFound, "against"),
            ($"/task/{Guid.NewGuid()}/diff?against={dns}", HttpMethod.Get, null, HttpStatusCode.NotFound, "id"),
            ($"/task/{dns}/baseline", HttpMethod.Post, "{}", HttpStatusCode.BadRequest, "name"),
            ($"/task/{dns}/baseline", HttpMethod.Post, """{"name": 5}""", HttpStatusCode.BadRequest, "name"),
            ($"/task/{dns}/baseline", HttpMethod.Post, """{"name": "has space"}""", HttpStatusCode.BadRequest, "name"),
            ($"/task/{dns}/baseline", HttpMethod.Post, "{not json", HttpStatusCode.BadRequest, "body"),
            ("/baselines/nope", HttpMethod.Delete, null, HttpStatusCode.NotFound, "name"),
        })
        {
            var (status, answer) = await SendAsync(_host, method, path, json: body);
            Assert.True(status == code, $"{method} {path} {body}: {(int)status} {answer.ToJsonString()}");
            Assert.Equal(field, answer["field"]!.GetValue<string>());
        }
        Assert.Empty((await SendAsync(_host, HttpMethod.Get, "/baselines")).Body["baselines"]!.AsArray());
    }

    [Fact]
    public async Task Another_owners_task_and_baseline_are_404()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new() { ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer }));
        var alice = await RunAsync(host, DnsPayload(), tokens.Alice);
        var bob = await RunAsync(host, DnsPayload(), tokens.Bob);
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(host, HttpMethod.Post, $"/task/{alice}/baseline", tokens.Alice, """{"name": "pre"}""")).Status);

        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(host, HttpMethod.Post, $"/task/{alice}/baseline", tokens.Bob, """{"name": "pre"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(host, HttpMethod.Get, $"/task/{bob}/diff?against={alice}", tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(host, HttpMethod.Get, $"/task/{bob}/diff?against=baseline:pre", tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(host, HttpMethod.Get, "/baselines/pre", tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(host, HttpMethod.Delete, "/baselines/pre", tokens.Bob)).Status);
        Assert.Empty((await SendAsync(host, HttpMethod.Get, "/baselines", tokens.Bob)).Body["baselines"]!.AsArray());
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(host, HttpMethod.Get, "/baselines/pre", tokens.Alice)).Status);
        // A reader may not pin (POST needs submit).
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(host, HttpMethod.Post, $"/task/{alice}/baseline", tokens.Reader, """{"name": "x"}""")).Status);
    }

    [Fact]
    public async Task A_schedule_compared_with_a_baseline_notifies_when_a_run_differs()
    {
        var before = await RunAsync(_host, DnsPayload());
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(_host, HttpMethod.Post, $"/task/{before}/baseline", json: """{"name": "pre-cutover"}""")).Status);
        await using var receiver = await WebhookReceiver.StartAsync();
        var schedule = new JsonObject
        {
            ["name"] = "cutover",
            ["task_name"] = "dns.check_records",
            ["cron"] = "0 6 * * 1",
            ["webhook"] = receiver.Url,
            ["notify"] = "baseline:missing",
            ["data"] = DnsPayload()["data"]!.DeepClone(),
        };
        var (refused, why) = await SendAsync(_host, HttpMethod.Post, "/schedules", json: schedule.ToJsonString());
        Assert.Equal((HttpStatusCode.BadRequest, "notify"), (refused, why["field"]!.GetValue<string>()));
        schedule["notify"] = "baseline:pre-cutover";
        Assert.Equal(HttpStatusCode.Created, (await SendAsync(_host, HttpMethod.Post, "/schedules", json: schedule.ToJsonString())).Status);

        // Unchanged: no webhook.
        var (_, first) = await SendAsync(_host, HttpMethod.Post, "/schedules/cutover/run");
        await _host.WaitAsync(first["task_id"]!.GetValue<string>());
        _dns.Clear("xsp.cutover.test");
        _dns.A("xsp.cutover.test", "192.0.2.21");
        var (_, second) = await SendAsync(_host, HttpMethod.Post, "/schedules/cutover/run");
        await _host.WaitAsync(second["task_id"]!.GetValue<string>());

        await receiver.WaitForAsync(1, TimeSpan.FromSeconds(20));
        var alert = Assert.Single(receiver.Received).Json;
        Assert.Equal("baseline_diff", alert["event"]!.GetValue<string>());
        Assert.Equal(second["task_id"]!.GetValue<string>(), alert["task_id"]!.GetValue<string>());
        Assert.StartsWith("differs from baseline pre-cutover (1 changed, 0 added, 0 removed): dns/xsp.cutover.test/state: original → 13056", alert["summary"]!.GetValue<string>());
    }
}
