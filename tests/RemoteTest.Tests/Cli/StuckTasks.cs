using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Cli;

/// <summary>Tasks that stay running for the CLI and browser tests of progress and revoke: they wait on a name the DNS server never answers.</summary>
public static class StuckTasks
{
    /// <summary>Long enough that a task waiting on a silent name is still running whatever the test does meanwhile.</summary>
    public const double TimeoutSeconds = 30;

    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(30);

    /// <summary>A fresh name <paramref name="dns"/> never answers.</summary>
    public static string SilentName(DnsTestServer dns)
    {
        var name = $"{Guid.NewGuid():N}.stuck.example.test";
        dns.Silent(name);
        return name;
    }

    /// <summary>Submits a DNS task (dns_data as JSON text) asking <paramref name="dns"/>.</summary>
    public static Task<string> SubmitDnsAsync(this ServiceHost host, DnsTestServer dns, string dnsData, double timeout) => host.SubmitAsync(new JsonObject
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(JsonNode.Parse(dnsData)),
            ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray(dns.NameServer), ["timeout"] = timeout },
        },
    });

    /// <summary>A task stuck on a silent name, returned once a worker runs it (STARTED).</summary>
    public static async Task<string> StartAsync(ServiceHost host, DnsTestServer dns)
    {
        var id = await host.SubmitDnsAsync(dns, $$$"""{"{{{SilentName(dns)}}}": {"original": ["192.0.2.1"]}}""", TimeoutSeconds);
        var deadline = DateTime.UtcNow + StartBound;
        while ((await host.StatusAsync(id))["state"]!.GetValue<string>() != "STARTED")
        {
            Assert.True(DateTime.UtcNow < deadline, $"task {id} did not start within {StartBound.TotalSeconds} s");
            await Task.Delay(50);
        }
        return id;
    }

    /// <summary>GET /task/{id} once.</summary>
    public static async Task<JsonObject> StatusAsync(this ServiceHost host, string id) =>
        JsonNode.Parse(await host.Http.GetStringAsync($"/task/{id}"))!.AsObject();
}
