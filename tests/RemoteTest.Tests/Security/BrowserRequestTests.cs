using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using RemoteTest.Security;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// The anonymous default against a hostile web page: a cross-site POST (text/plain, no preflight) and a
/// DNS-rebinding page (its own host name in Host) are refused; curl-like clients and the service's own pages work.
/// </summary>
public sealed class BrowserRequestTests
{
    private const string Payload = """{"task_name": "dns.check_records", "data": {"args": [{"www.example.test": {"original": ["192.0.2.1"]}}], "kwargs": {"nameservers": ["127.0.0.1:9"], "timeout": 0.5}}}""";

    private static HttpRequestMessage Post(string? origin = null, string? host = null)
    {
        // What a cross-site <form enctype="text/plain"> or fetch(..., {mode: "no-cors"}) sends: no preflight.
        var request = new HttpRequestMessage(HttpMethod.Post, "/task") { Content = new StringContent(Payload, Encoding.UTF8, "text/plain") };
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }
        if (host is not null)
        {
            request.Headers.Host = host;
        }
        return request;
    }

    private static async Task<int> StoredTasksAsync(ServiceHost host)
    {
        var listing = (await host.Http.GetFromJsonAsync<JsonObject>("/task"))!;
        return listing["tasks"]!.AsArray().Count;
    }

    [Fact]
    public async Task A_cross_site_post_is_refused_naming_Origin_and_stores_nothing()
    {
        await using var host = await ServiceHost.StartAsync();
        using var response = await host.Http.SendAsync(Post(origin: "https://evil.example"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("Origin", body["field"]!.GetValue<string>());
        using var nullOrigin = await host.Http.SendAsync(Post(origin: "null"));
        Assert.Equal(HttpStatusCode.Forbidden, nullOrigin.StatusCode);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, $"/task/{Guid.NewGuid()}");
        delete.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await host.Http.SendAsync(delete)).StatusCode);
        Assert.Equal(0, await StoredTasksAsync(host));
        Assert.Contains(host.Logs.Lines, l => l.Contains("refused a browser request") && l.Contains("Origin"));
    }

    [Fact]
    public async Task A_dns_rebinding_host_name_is_refused_naming_Host_for_reads_too()
    {
        await using var host = await ServiceHost.StartAsync();
        using var post = await host.Http.SendAsync(Post(host: $"rebind.evil.example:{host.BaseAddress.Port}"));
        Assert.Equal(HttpStatusCode.BadRequest, post.StatusCode);
        Assert.Equal("Host", (await post.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
        using var read = new HttpRequestMessage(HttpMethod.Get, "/task");
        read.Headers.Host = "rebind.evil.example";
        Assert.Equal(HttpStatusCode.BadRequest, (await host.Http.SendAsync(read)).StatusCode);
        Assert.Equal(0, await StoredTasksAsync(host));
        // Load balancers probe health by any name; the answer names nothing.
        using var health = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        health.Headers.Host = "lb.internal.example";
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(health)).StatusCode);
    }

    [Fact]
    public async Task Curl_the_service_own_origin_loopback_names_and_configured_names_keep_working()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Auth:AllowedHosts:0"] = "remotetest.lab.example",
            ["RemoteTest:Cors:AllowedOrigins:0"] = "https://dashboard.example",
        });
        var port = host.BaseAddress.Port;
        foreach (var request in new[]
                 {
                     Post(),
                     Post(origin: $"http://127.0.0.1:{port}"),
                     Post(host: $"localhost:{port}", origin: $"http://localhost:{port}"),
                     Post(host: $"[::1]:{port}"),
                     Post(host: "remotetest.lab.example"),
                     Post(origin: "https://dashboard.example"),
                 })
        {
            using (request)
            using (var response = await host.Http.SendAsync(request))
            {
                Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{request.Headers}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }

    [Fact]
    public async Task With_tokens_and_no_anonymous_access_the_host_name_is_not_checked()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        using var request = TestTokens.Request(HttpMethod.Get, "/tasks", tokens.Alice);
        request.Headers.Host = "remotetest.example.com";
        Assert.Equal(HttpStatusCode.OK, (await host.Http.SendAsync(request)).StatusCode);
    }

    [Fact]
    public async Task Anonymous_callers_get_the_configured_scopes_and_never_admin()
    {
        var directory = new ApiTokenDirectory(Options.Create(new AuthOptions()));
        Assert.Equal([ApiScopes.Submit, ApiScopes.Read], directory.Anonymous);

        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Auth:AnonymousScopes:0"] = "read" });
        using var post = await host.Http.SendAsync(Post());
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Contains("anonymous callers do not have the 'submit' scope", await post.Content.ReadAsStringAsync());

        var ex = Assert.Throws<StartupException>(() => Program.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "memory", ["RemoteTest:Auth:AnonymousScopes:0"] = "admin" })));
        Assert.Contains("AnonymousScopes: 'admin' cannot be given to anonymous callers", ex.Message);
    }

    [Fact]
    public void A_worker_only_node_on_a_non_loopback_address_needs_tokens_or_anonymous_access_like_an_api_node()
    {
        var ex = Assert.Throws<StartupException>(() => Program.Build(["--urls", "http://0.0.0.0:0"], b => b.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "postgres", ["RemoteTest:Storage:ConnectionString"] = "Host=127.0.0.1;Port=9;Database=none", ["RemoteTest:Queue:RabbitMq"] = "amqp://127.0.0.1:9", ["RemoteTest:Roles"] = "worker" })));
        Assert.Contains("no API tokens are configured", ex.Message);
    }
}
