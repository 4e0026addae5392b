using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>The original's task API over a real listener: both payload forms, states, every 400 case.</summary>
public sealed class TaskApiTests : IAsyncLifetime
{
    private DnsTestServer _dns = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1").Silent("slow.example.test");
        _host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer,
            ["RemoteTest:Limits:MaxChecksPerTask"] = "3",
            ["RemoteTest:Limits:MaxRequestBytes"] = "4096",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private static JsonObject DnsData(string domain = "www.example.test") =>
        new() { [domain] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } };

    [Fact]
    public async Task Tasks_lists_names_count_and_argument_schemas()
    {
        var body = (await _host.Http.GetFromJsonAsync<JsonObject>("/tasks"))!;
        var names = body["task_names"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();
        Assert.Contains("dns.check_records", names);
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(names.Count, body["count"]!.GetValue<int>());
        var dns = body["tasks"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "dns.check_records")!;
        Assert.Equal("dns_data", dns["parameters"]![0]!.GetValue<string>());
        Assert.Equal("number", dns["args_schema"]!["properties"]!["timeout"]!["type"]!.GetValue<string>());
        Assert.Contains("dns_data", dns["args_schema"]!["required"]!.AsArray().Select(n => n!.GetValue<string>()));
    }

    [Fact]
    public async Task Post_answers_202_with_a_random_uuid_and_location_then_get_shows_success()
    {
        using var response = await _host.PostTaskAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(DnsData()), ["kwargs"] = new JsonObject { ["timeout"] = 2 } },
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        Assert.Equal(4, Guid.Parse(id).Version);
        Assert.Equal($"/task/{id}", response.Headers.Location!.ToString());

        var status = await _host.WaitAsync(id);
        Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
        Assert.True(status["ready"]!.GetValue<bool>());
        Assert.Equal("original", status["result"]!["results"]!["www.example.test"]!["state"]!.GetValue<string>());
        Assert.Equal("dns.check_records", status["task_name"]!.GetValue<string>());
        Assert.NotNull(status["date_submitted"]);
        Assert.NotNull(status["date_started"]);
        Assert.NotNull(status["date_done"]);
        Assert.False(string.IsNullOrEmpty(status["worker"]!.GetValue<string>()));
        Assert.False(status.ContainsKey("error"));
    }

    [Fact]
    public async Task Running_task_is_started_and_not_ready()
    {
        var id = await _host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(DnsData("slow.example.test")), ["kwargs"] = new JsonObject { ["timeout"] = 3 } },
        });
        JsonObject? status = null;
        for (var i = 0; i < 100; i++)
        {
            status = (await _host.Http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!;
            if (status["state"]!.GetValue<string>() == "STARTED")
            {
                break;
            }
            await Task.Delay(20);
        }
        Assert.Equal("STARTED", status!["state"]!.GetValue<string>());
        Assert.False(status["ready"]!.GetValue<bool>());
        Assert.False(status.ContainsKey("result"));
    }

    [Fact]
    public async Task A_task_over_its_time_limit_ends_failure_with_an_error_string()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer,
            ["RemoteTest:Worker:TaskTimeLimit"] = "00:00:00.300",
        });
        var id = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "dns.check_records",
            ["data"] = new JsonObject { ["args"] = new JsonArray(DnsData("slow.example.test")), ["kwargs"] = new JsonObject { ["timeout"] = 5 } },
        });
        var status = await host.WaitAsync(id);
        Assert.Equal("FAILURE", status["state"]!.GetValue<string>());
        Assert.True(status["ready"]!.GetValue<bool>());
        Assert.StartsWith("TimeLimitExceeded", status["error"]!.GetValue<string>());
        Assert.False(status.ContainsKey("result"));
    }

    public static TheoryData<string, int, string> BadRequests => new()
    {
        { "not json at all", 400, "body" },
        { "[1, 2]", 400, "body" },
        { "\"text\"", 400, "body" },
        { "{}", 400, "task_name" },
        { """{"task_name": ""}""", 400, "task_name" },
        { """{"task_name": 42}""", 400, "task_name" },
        { """{"task_name": "no.such_task", "data": {}}""", 400, "task_name" },
        { """{"task_name": "dns.check_records", "data": {"args": {"a": 1}}}""", 400, "data.args" },
        { """{"task_name": "dns.check_records", "data": {"args": [], "kwargs": []}}""", 400, "data.kwargs" },
        { """{"task_name": "dns.check_records", "data": {"args": [{}, 3, true, [], 9, false, 9]}}""", 400, "data.args" },
        { """{"task_name": "dns.check_records", "data": {"args": [{"a.test": {}}], "kwargs": {"dns_data": {}}}}""", 400, "data.kwargs.dns_data" },
        { """{"task_name": "dns.check_records", "data": {"args": [], "kwargs": {"bogus": 1, "dns_data": {"a.test": {}}}}}""", 400, "data.kwargs.bogus" },
        { """{"task_name": "dns.check_records", "data": {"args": ["a.test"]}}""", 400, "dns_data" },
        { """{"task_name": "dns.check_records"}""", 400, "dns_data" },
        { """{"task_name": "dns.check_records", "data": {"a.test": {}, "b.test": {}, "c.test": {}, "d.test": {}}}""", 400, "dns_data" },
        { """{"task_name": "dns.check_records", "data": {"-bad-.test": {}}}""", 400, "dns_data[\"-bad-.test\"]" },
        { """{"task_name": "dns.check_records", "data": {"a.test": {}}, "queue": "Bad Queue"}""", 400, "queue" },
        { """{"task_name": "dns.check_records", "data": {"args": [{"a.test": {}}], "extra": 1}}""", 400, "data.extra" },
        { "{\"task_name\": \"dns.check_records\", \"data\": {\"a.test\": {\"x\": [\"" + new string('1', 5000) + "\"]}}}", 413, "body" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_a_4xx_naming_the_field_and_nothing_is_stored(string body, int status, string field)
    {
        using var response = await _host.Http.PostAsync("/task", new StringContent(body, Encoding.UTF8, "text/plain"));
        Assert.Equal(status, (int)response.StatusCode);
        var json = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(field, json["field"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(json["error"]!.GetValue<string>()));

        var store = _host.Services.GetRequiredService<ITaskStore>();
        var page = await store.ListAsync(new TaskQuery(), CancellationToken.None);
        Assert.Empty(page.Tasks);
    }

    [Fact]
    public async Task Body_is_read_as_json_whatever_its_content_type_like_flask_force()
    {
        var payload = new JsonObject { ["task_name"] = "dns.check_records", ["data"] = DnsData() }.ToJsonString();
        using var response = await _host.Http.PostAsync("/task", new StringContent(payload, Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Ids_that_are_not_uuids_are_404()
    {
        using var response = await _host.Http.GetAsync("/task/not-a-task");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("not-a-task", (await response.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>());
    }
}
