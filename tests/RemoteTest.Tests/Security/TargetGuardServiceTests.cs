using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Security;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>The target policy applied to tasks: up-front 400 when every target is denied, per-target results otherwise.</summary>
public sealed class TargetGuardServiceTests : IAsyncLifetime
{
    private readonly TestTokens _tokens = new();
    private DnsTestServer _dns = null!;
    private DnsTestServer _second = null!;

    public Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1");
        _second = DnsTestServer.Start(IPAddress.Parse("127.0.0.2")).A("www.example.test", "192.0.2.1");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _dns.DisposeAsync();
        await _second.DisposeAsync();
    }

    private static string DnsPayload(params string[] nameservers) => new JsonObject
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }),
            ["kwargs"] = new JsonObject { ["timeout"] = 2, ["nameservers"] = new JsonArray(nameservers.Select(n => (JsonNode)n).ToArray()) },
        },
    }.ToJsonString();

    /// <summary>The service as deployed: listening on every interface, with tokens.</summary>
    private Task<ServiceHost> Exposed(Dictionary<string, string?>? more = null)
    {
        var settings = _tokens.Settings(more);
        settings["urls"] = "http://0.0.0.0:0";
        return ServiceHost.StartAsync(settings);
    }

    [Fact]
    public async Task The_exposed_default_denies_loopback_targets_up_front_with_400()
    {
        await using var host = await Exposed();
        using var response = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Alice, DnsPayload(_dns.NameServer)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("target not allowed: 127.0.0.1 is loopback", body["error"]!.GetValue<string>());
        Assert.Equal("nameservers", body["field"]!.GetValue<string>());
        Assert.Equal(0, _dns.QueriesFor("www.example.test"));

        using var metadata = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Alice, DnsPayload("169.254.169.254", "[::1]:53")));
        Assert.Equal(HttpStatusCode.BadRequest, metadata.StatusCode);
        Assert.Contains("every target is denied by the target policy; the first: target not allowed: 169.254.169.254 is link-local (the cloud metadata service)",
            await metadata.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Loopback_targets_are_allowed_while_the_service_listens_on_loopback_only()
    {
        await using var host = await ServiceHost.StartAsync();
        Assert.Contains("Loopback targets are allowed", host.Logs.All);
        var result = await host.RunAsync(JsonNode.Parse(DnsPayload(_dns.NameServer))!);
        Assert.Equal("original", result["results"]!["www.example.test"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_denied_target_among_allowed_ones_is_a_per_target_result_and_gets_no_packet()
    {
        await using var host = await Exposed(new() { ["RemoteTest:Targets:Allow:0"] = "127.0.0.2/32" });
        using var response = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Alice, DnsPayload(_dns.NameServer, _second.NameServer)));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();

        host.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _tokens.Alice);
        var status = await host.WaitAsync(id);
        Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
        var byServer = status["result"]!["results"]!["www.example.test"]!["by_nameserver"]!;
        var denied = byServer[_dns.NameServer]!;
        Assert.Equal("target not allowed: 127.0.0.1 is loopback", denied["error"]!.GetValue<string>());
        Assert.Equal("not_allowed", denied["error_kind"]!.GetValue<string>());
        Assert.Equal("original", byServer[_second.NameServer]!["state"]!.GetValue<string>());
        Assert.Equal(0, _dns.QueriesFor("www.example.test"));
        Assert.Equal(1, _second.QueriesFor("www.example.test"));
    }

    [Fact]
    public async Task Tests_and_operators_allow_loopback_by_configuration()
    {
        await using var host = await Exposed(new() { ["RemoteTest:Targets:Allow:0"] = "127.0.0.0/8" });
        host.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _tokens.Alice);
        var result = await host.RunAsync(JsonNode.Parse(DnsPayload(_dns.NameServer))!);
        Assert.Equal("original", result["results"]!["www.example.test"]!["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_deny_list_applies_even_on_loopback()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Targets:Deny:0"] = "127.0.0.1" });
        using var response = await host.Http.PostAsync("/task", new StringContent(DnsPayload(_dns.NameServer)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("target not allowed: 127.0.0.1 is denied by RemoteTest:Targets:Deny", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_policy_of_an_exposed_service_does_not_allow_loopback_and_of_a_local_one_does()
    {
        await using var exposed = Program.Build(["--urls", "http://0.0.0.0:0"], b => b.Configuration.AddInMemoryCollection(_tokens.Settings(new() { ["RemoteTest:Storage:Kind"] = "memory" })));
        Assert.False(exposed.Services.GetRequiredService<TargetPolicy>().LoopbackAllowed);
        await using var local = Program.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "memory" }));
        Assert.True(local.Services.GetRequiredService<TargetPolicy>().LoopbackAllowed);
    }
}

/// <summary>The guard in porttest and apptest: resolved addresses judged at connect (DNS rebinding), politeness across tasks.</summary>
public sealed class ProbeGuardServiceTests
{
    private readonly TestTokens _tokens = new();

    private static string PortPayload(JsonObject data, double timeout, params int[] tlsPorts) => new JsonObject
    {
        ["task_name"] = "porttest.run",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(data),
            ["kwargs"] = new JsonObject { ["timeout"] = timeout, ["tls_ports"] = new JsonArray(tlsPorts.Select(p => (JsonNode)p).ToArray()) },
        },
    }.ToJsonString();

    private static JsonObject Ports(params (string Host, int Port)[] targets)
    {
        var data = new JsonObject();
        foreach (var (host, port) in targets)
        {
            data[host] = new JsonObject { ["ports"] = new JsonArray(port) };
        }
        return data;
    }

    private async Task<ServiceHost> Exposed(Dictionary<string, string?> more, RemoteTest.Probes.IHostResolver? resolver = null)
    {
        var settings = _tokens.Settings(more);
        settings["urls"] = "http://0.0.0.0:0";
        var host = await ServiceHost.StartAsync(settings, resolver is null ? null : s => s.AddSingleton(resolver));
        host.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _tokens.Alice);
        return host;
    }

    [Fact]
    public async Task Porttest_judges_the_address_a_name_resolves_to_so_dns_rebinding_cannot_reach_loopback()
    {
        await using var denied = RemoteTest.Fixtures.OpenPortListener.Start(IPAddress.Loopback);
        await using var allowed = RemoteTest.Fixtures.OpenPortListener.Start(IPAddress.Parse("127.0.0.2"));
        var resolver = new TableResolver { ["rebind.example.test"] = [IPAddress.Loopback], ["ok.example.test"] = [IPAddress.Parse("127.0.0.2")] };
        await using var host = await Exposed(new() { ["RemoteTest:Targets:Allow:0"] = "127.0.0.2/32" }, resolver);

        var result = await host.RunAsync(JsonNode.Parse(PortPayload(
            Ports(("rebind.example.test", denied.Port), ("ok.example.test", allowed.Port), ("127.0.0.1", denied.Port)), 2))!);
        foreach (var name in new[] { "rebind.example.test", "127.0.0.1" })
        {
            var port = result["results"]![name]!["ports"]![denied.Port.ToString()]!;
            Assert.False(port["open"]!.GetValue<bool>());
            Assert.Equal("target not allowed: 127.0.0.1 is loopback", port["error"]!.GetValue<string>());
            Assert.Equal("not_allowed", port["error_kind"]!.GetValue<string>());
        }
        Assert.True(result["results"]!["ok.example.test"]!["ports"]![allowed.Port.ToString()]!["open"]!.GetValue<bool>());
        Assert.Equal(0, denied.Accepted);

        // Written targets that are all denied never get a task.
        using var refused = await host.Http.PostAsync("/task", new StringContent(PortPayload(Ports(("127.0.0.1", denied.Port), ("localhost", denied.Port)), 2)));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var body = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("data", body["field"]!.GetValue<string>());
        Assert.Contains("target not allowed: 127.0.0.1 is loopback", body["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Apptest_targets_that_are_all_denied_are_refused_up_front()
    {
        await using var host = await Exposed([]);
        var payload = new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["169.254.169.254"] = new JsonObject { ["applications"] = new JsonArray("xsp") } }) },
        };
        using var refused = await host.Http.PostAsync("/task", new StringContent(payload.ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("target not allowed: 169.254.169.254 is link-local (the cloud metadata service)", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task At_most_n_connections_to_one_address_across_tasks()
    {
        await using var silent = RemoteTest.Fixtures.SilentListener.Start(IPAddress.Loopback);
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Targets:MaxConnectionsPerAddress"] = "2" });
        // Two tasks hold a TLS handshake open on a silent port for up to 4 s: both slots of 127.0.0.1 are taken.
        var holders = new[]
        {
            await host.SubmitAsync(JsonNode.Parse(PortPayload(Ports(("127.0.0.1", silent.Port)), 4, silent.Port))!),
            await host.SubmitAsync(JsonNode.Parse(PortPayload(Ports(("127.0.0.1", silent.Port)), 4, silent.Port))!),
        };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (silent.Accepted < 2 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(2, silent.Accepted);

        // A third task waits for a slot within its own 1 s timeout and never connects.
        var third = await host.RunAsync(JsonNode.Parse(PortPayload(Ports(("127.0.0.1", silent.Port)), 1, silent.Port))!);
        var port = third["results"]!["127.0.0.1"]!["ports"]![silent.Port.ToString()]!;
        Assert.False(port["open"]!.GetValue<bool>());
        Assert.Equal("timeout", port["error_kind"]!.GetValue<string>());
        Assert.Equal(2, silent.Accepted);
        Assert.Equal(2, silent.MaxConcurrent);
        foreach (var id in holders)
        {
            Assert.Equal("SUCCESS", (await host.WaitAsync(id))["state"]!.GetValue<string>());
        }
    }
}
