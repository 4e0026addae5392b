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
