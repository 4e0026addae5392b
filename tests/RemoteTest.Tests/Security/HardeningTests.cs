using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>Malformed input never reaches a 500 or the queue; HTML answers carry security headers; CORS is off unless configured.</summary>
public sealed class HardeningTests
{
    private const int Payloads = 1200;

    [Fact]
    public async Task A_thousand_malformed_payloads_each_get_a_4xx_json_error_and_nothing_is_enqueued()
    {
        await using var dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1");
        await using var host = await ServiceHost.StartSealedAsync(dns.NameServer);
        var seed = Environment.TickCount;
        var generator = new MalformedPayloads(seed);
        var kinds = new Dictionary<string, int>();
        var contentTypes = new[] { "application/json", "text/plain", "application/x-www-form-urlencoded", null };

        for (var i = 0; i < Payloads; i++)
        {
            var (kind, body) = generator.Next();
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
            var content = new ByteArrayContent(body);
            if (contentTypes[i % contentTypes.Length] is { } type)
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(type);
            }
            using var response = await host.Http.PostAsync("/task", content);
            var text = await response.Content.ReadAsStringAsync();
            var where = $"payload {i} ({kind}, seed {seed}): {(int)response.StatusCode} {Shorten(text)} for {Shorten(System.Text.Encoding.UTF8.GetString(body))}";
            Assert.True((int)response.StatusCode is >= 400 and < 500, where);
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", where);
            var error = JsonNode.Parse(text)?["error"];
            Assert.True(error?.GetValueKind() == JsonValueKind.String && error.GetValue<string>().Length > 0, where);
        }

        // Every kind of defect was tried, the process answers, and nothing was stored or queued.
        Assert.Equal(11, kinds.Count);
        using var root = await host.Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        var page = await host.Services.GetRequiredService<ITaskStore>().ListAsync(new TaskQuery(), CancellationToken.None);
        Assert.Empty(page.Tasks);
        Assert.Equal(0, await host.Services.GetRequiredService<RemoteTest.Engine.ITaskQueue>().DepthAsync("default", CancellationToken.None));
        Assert.Equal(0, host.Services.GetRequiredService<RemoteTest.Engine.RunningTasks>().Count);
        Assert.DoesNotContain(host.Logs.Lines, l => l.StartsWith("Error ") || l.StartsWith("Critical "));
        Assert.Equal(0, dns.QueriesFor("www.example.test"));
    }

    [Fact]
    public async Task Malformed_schedules_and_history_queries_get_a_4xx_json_error_and_nothing_is_saved()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Targets:Deny:0"] = "0.0.0.0/0",
            ["RemoteTest:Targets:Deny:1"] = "::/0",
            ["RemoteTest:Limits:MaxRequestBytes"] = "262144",
        });
        var seed = Environment.TickCount;
        var generator = new MalformedPayloads(seed);
        for (var i = 0; i < 400; i++)
        {
            var (kind, body) = generator.Next();
            // Half as they come, half dressed as a schedule (name and cron added) so the task part is what is wrong.
            if (i % 2 == 1 && TryParseObject(body) is { } o && !o.ContainsKey("name") && !o.ContainsKey("cron"))
            {
                o["name"] = $"fuzz-{i}";
                o["cron"] = "*/5 * * * *";
                body = System.Text.Encoding.UTF8.GetBytes(o.ToJsonString());
            }
            using var response = await host.Http.PostAsync("/schedules", new ByteArrayContent(body));
            await AssertJsonClientErrorAsync(response, $"schedule {i} ({kind}, seed {seed}): {Shorten(System.Text.Encoding.UTF8.GetString(body))}");
        }
        Assert.Empty(await host.Services.GetRequiredService<ITaskStore>().ListSchedulesAsync(CancellationToken.None));

        var random = new Random(seed);
        string[] keys = ["state", "task_name", "queue", "schedule", "since", "limit", "cursor", "include_result"];
        string[] bad = ["", "-1", "0", "501", "9999999999999999999999", "%00", "%FF%FE", "nope", "1e400", "2026-13-45", "NaN", new string('9', 3000), "%7B%22a%22%3A1%7D"];
        for (var i = 0; i < 200; i++)
        {
            var key = keys[random.Next(keys.Length)];
            using var response = await host.Http.GetAsync($"/task?{key}={bad[random.Next(bad.Length)]}&limit={bad[random.Next(bad.Length)]}");
            Assert.True((int)response.StatusCode is >= 200 and < 500, $"GET /task {key} (seed {seed}): {(int)response.StatusCode}");
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        }
        using var root = await host.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.DoesNotContain(host.Logs.Lines, l => l.StartsWith("Error ") || l.StartsWith("Critical "));
    }

    private static JsonObject? TryParseObject(byte[] body)
    {
        try
        {
            var o = JsonNode.Parse(body) as JsonObject;
            _ = o?.Count; // members are read lazily: a duplicate key throws here, not later
            return o;
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    private static async Task AssertJsonClientErrorAsync(HttpResponseMessage response, string where)
    {
        var text = await response.Content.ReadAsStringAsync();
        where += $" -> {(int)response.StatusCode} {Shorten(text)}";
        Assert.True((int)response.StatusCode is >= 400 and < 500, where);
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", where);
        var error = JsonNode.Parse(text)?["error"];
        Assert.True(error?.GetValueKind() == JsonValueKind.String && error.GetValue<string>().Length > 0, where);
    }

    [Fact]
    public async Task Malformed_ids_and_paths_get_4xx_json_too()
    {
        await using var host = await ServiceHost.StartAsync();
        foreach (var id in new[] { "x", "%00", "%FF%FE", new string('9', 5000), "../../etc/passwd", "00000000-0000-0000-0000-000000000000", "%7B%7D" })
        {
            using var response = await host.Http.GetAsync($"/task/{id}");
            Assert.True((int)response.StatusCode is >= 400 and < 500, id);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]);
            }
        }
    }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + "…";

    [Fact]
    public async Task The_ui_page_answers_without_a_token_and_carries_security_headers_while_json_gets_nosniff()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        using var html = await host.Http.GetAsync("/ui/");
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.StartsWith("text/html", html.Content.Headers.ContentType!.ToString());
        Assert.Equal("DENY", html.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", html.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", html.Headers.GetValues("Referrer-Policy").Single());
        var csp = html.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self'", csp);

        using var json = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", tokens.Reader));
        Assert.Equal("nosniff", json.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.False(json.Headers.Contains("Content-Security-Policy"));
        // The page is public; the data behind it is not.
        using var data = await host.Http.GetAsync("/tasks");
        Assert.Equal(HttpStatusCode.Unauthorized, data.StatusCode);
    }

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/task");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }

    [Fact]
    public async Task Cors_is_off_unless_configured()
    {
        await using var host = await ServiceHost.StartAsync();
        using var preflight = await host.Http.SendAsync(Preflight("https://evil.example"));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        var get = new HttpRequestMessage(HttpMethod.Get, "/tasks");
        get.Headers.Add("Origin", "https://evil.example");
        using var simple = await host.Http.SendAsync(get);
        Assert.False(simple.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Cors_allows_exactly_the_configured_origins()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Cors:AllowedOrigins:0"] = "https://portal.example" });
        using var allowed = await host.Http.SendAsync(Preflight("https://portal.example"));
        Assert.Equal("https://portal.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        using var other = await host.Http.SendAsync(Preflight("https://evil.example"));
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
