using System.ComponentModel;
using System.Text.Json.Nodes;
using RemoteTest.Cli.Verdicts;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

public sealed class DnsCheckSettings : SubmitSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("dns_data JSON: {domain: {state: [[values]]}} (or a whole payload); - for standard input.")]
    public string File { get; set; } = "";

    [CommandOption("--nameserver <IP[:PORT]>")]
    [Description("Ask this nameserver instead of the server's resolvers; repeat (or comma separate) to compare several.")]
    public string[] Nameservers { get; set; } = [];

    [CommandOption("--resolver-set <NAME>")]
    [Description("Ask a configured resolver set instead (e.g. public); its resolvers are compared.")]
    public string? ResolverSet { get; set; }

    [CommandOption("--authoritative")]
    [Description("Also ask every authoritative server of each zone directly (answer, rcode, SOA serial).")]
    public bool Authoritative { get; set; }

    [CommandOption("--record-type <TYPE>")]
    [Description("Query this type for every domain: A, AAAA, CNAME, MX, TXT, NS, SRV, NAPTR, PTR, SOA, CAA, TLSA, DS, DNSKEY, or SIP (RFC 3263).")]
    public string? RecordType { get; set; }

    [CommandOption("--expect <STATE>")]
    [Description("Pass only when every domain is in this state (e.g. the migration's target).")]
    public string? Expect { get; set; }
}

/// <summary><c>remotetest dns check dns_data.json</c>: dns.check_records.</summary>
public sealed class DnsCheckCommand(CliEnvironment environment) : SubmitCommand<DnsCheckSettings>(environment)
{
    protected override JsonObject BuildPayload(DnsCheckSettings settings)
    {
        var input = JsonInput.ReadObject(settings.File, Environment);
        var payload = JsonInput.IsPayload(input) ? input : JsonInput.Payload("dns.check_records", input);
        var nameservers = settings.Nameservers.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (nameservers.Length > 0)
        {
            JsonInput.Kwargs(payload)["nameservers"] = new JsonArray(nameservers.Select(n => (JsonNode)n).ToArray());
        }
        if (settings.ResolverSet is { } set)
        {
            JsonInput.Kwargs(payload)["nameservers"] = set;
        }
        if (settings.Authoritative)
        {
            JsonInput.Kwargs(payload)["authoritative"] = true;
        }
        if (settings.RecordType is { } type)
        {
            JsonInput.Kwargs(payload)["record_type"] = type;
        }
        return payload;
    }

    protected override string? ExtraFailure(DnsCheckSettings settings, JsonNode? result)
    {
        if (settings.Expect is not { } expect)
        {
            return null;
        }
        // In the expected state by the one DNS rule: every resolver answered and agrees on it.
        var elsewhere = (result?["results"] as JsonObject ?? [])
            .Where(d => d.Value is not JsonObject domain || ResultView.Text(domain["state"]) != expect || !DnsVerdict.DomainOk(domain))
            .Select(d => $"{d.Key} is {(d.Value is JsonObject o ? DnsVerdict.Outcome(o) : "?")}").ToList();
        return elsewhere.Count == 0 ? null : $"not every domain is in state {expect}: {string.Join(", ", elsewhere)}";
    }
}
