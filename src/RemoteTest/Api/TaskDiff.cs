using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Tasks;

namespace RemoteTest.Api;

/// <summary>
/// What changed between two runs of the same task ("before" = the task compared against, "after" = the task
/// asked about), as data with stable keys: per check (a DNS domain, a host's port, a host's application) the
/// fields an engineer acts on, each with its value before and after; a check only one side has is added or
/// removed. Timings, TTLs and days-left (which change by themselves) are left out.
/// </summary>
/// <remarks>
/// Keys are <c>kind/target[/sub]</c> (<c>dns/akixi.altvoip.com</c>, <c>port/sbc.example.com/5061</c>,
/// <c>app/adp.example.com/Xsi-Actions</c>) and fields are dotted names (<c>state</c>,
/// <c>by_nameserver.127.0.0.1:53.state</c>, <c>tls.fingerprint_sha256</c>); both stay the same from run to run.
/// </remarks>
public static class TaskDiff
{
    /// <summary>A check's fields, in a stable order.</summary>
    public sealed record Check(string Key, string Kind, string Target, IReadOnlyList<(string Field, JsonNode? Value)> Fields);

    private static readonly string[] DnsFields = ["state", "ok", "rcode", "error_kind", "retrieved", "record_type"];
    private static readonly string[] NameserverFields = ["state", "rcode", "error_kind", "retrieved"];
    private static readonly string[] PortFields = ["open", "error_kind"];
    private static readonly string[] TlsFields = ["loaded", "fingerprint_sha256", "issuer", "subject", "expires_utc", "earliest_not_after", "protocol", "name_match", "chain_valid", "error_kind"];
    private static readonly string[] AppFields = ["ok", "error_kind", "error"];

    /// <summary>The diff document: <c>{changed, summary: {changed, unchanged, added, removed}, checks: [...], differences: [...]}</c>.</summary>
    public static JsonObject Compute(string? taskName, JsonNode? before, JsonNode? after)
    {
        var a = Checks(taskName, before).ToDictionary(c => c.Key, StringComparer.Ordinal);
        var b = Checks(taskName, after).ToDictionary(c => c.Key, StringComparer.Ordinal);
        // The after-run's order first (the caller's order of domains and hosts), then what only the before-run had.
        var keys = b.Keys.Concat(a.Keys.Where(k => !b.ContainsKey(k))).ToList();
        int changed = 0, unchanged = 0, added = 0, removed = 0;
        var checks = new JsonArray();
        var differences = new JsonArray();
        foreach (var key in keys)
        {
            a.TryGetValue(key, out var was);
            b.TryGetValue(key, out var now);
            var check = (now ?? was)!;
            var wasFields = was?.Fields.ToDictionary(f => f.Field, f => f.Value, StringComparer.Ordinal) ?? [];
            var nowFields = now?.Fields.ToDictionary(f => f.Field, f => f.Value, StringComparer.Ordinal) ?? [];
            var names = (now?.Fields ?? []).Select(f => f.Field).Concat((was?.Fields ?? []).Select(f => f.Field)).Distinct(StringComparer.Ordinal);
            var fields = new JsonArray();
            var any = false;
            foreach (var name in names)
            {
                wasFields.TryGetValue(name, out var from);
                nowFields.TryGetValue(name, out var to);
                var differs = was is not null && now is not null && !JsonNode.DeepEquals(from, to);
                any |= differs;
                fields.Add(new JsonObject { ["field"] = name, ["from"] = from?.DeepClone(), ["to"] = to?.DeepClone(), ["changed"] = differs });
                if (differs)
                {
                    differences.Add(new JsonObject
                    {
                        ["key"] = $"{key}/{name}", ["check"] = key, ["field"] = name, ["from"] = from?.DeepClone(), ["to"] = to?.DeepClone(),
                    });
                }
            }
            var status = was is null ? "added" : now is null ? "removed" : any ? "changed" : "unchanged";
            switch (status)
            {
                case "added": added++; differences.Add(new JsonObject { ["key"] = key, ["check"] = key, ["field"] = null, ["from"] = null, ["to"] = "present" }); break;
                case "removed": removed++; differences.Add(new JsonObject { ["key"] = key, ["check"] = key, ["field"] = null, ["from"] = "present", ["to"] = null }); break;
                case "changed": changed++; break;
                default: unchanged++; break;
            }
            checks.Add(new JsonObject { ["key"] = key, ["kind"] = check.Kind, ["target"] = check.Target, ["status"] = status, ["fields"] = fields });
        }
        return new JsonObject
        {
            ["changed"] = changed + added + removed > 0,
            ["summary"] = new JsonObject { ["changed"] = changed, ["unchanged"] = unchanged, ["added"] = added, ["removed"] = removed },
            ["checks"] = checks,
            ["differences"] = differences,
        };
    }

    /// <summary>The checks of a result, by the result shapes every task shares (DESIGN.md), whatever the task.</summary>
    public static IEnumerable<Check> Checks(string? taskName, JsonNode? result)
    {
        if (result?["results"] is not JsonObject results)
        {
            yield break;
        }
        foreach (var (target, node) in results)
        {
            if (node is not JsonObject entry)
            {
                continue;
            }
            if (taskName == "dns.check_records" || (entry.ContainsKey("retrieved") && entry.ContainsKey("state")))
            {
                var fields = DnsFields.Select(f => (f, f == "ok" ? (JsonNode?)JsonValue.Create(DnsVerdict.DomainOk(entry)) : Value(entry[f]))).ToList();
                if (entry["by_nameserver"] is JsonObject servers)
                {
                    foreach (var (server, answer) in servers.OrderBy(s => s.Key, StringComparer.Ordinal))
                    {
                        fields.AddRange(NameserverFields.Select(f => ($"by_nameserver.{server}.{f}", Value(answer?[f]))));
                    }
                }
                yield return new Check($"dns/{target}", "dns", target, fields);
            }
            else if (entry["ports"] is JsonObject ports)
            {
                foreach (var (port, p) in ports)
                {
                    if (p is not JsonObject portResult)
                    {
                        continue;
                    }
                    var fields = PortFields.Select(f => (f, Value(portResult[f]))).ToList();
                    if (portResult["tls"] is JsonObject tls)
                    {
                        fields.AddRange(TlsFields.Select(f => ($"tls.{f}", Value(tls[f]))));
                    }
                    yield return new Check($"port/{target}/{port}", "port", $"{target}:{port}", fields);
                }
            }
            else
            {
                foreach (var (app, a) in entry)
                {
                    if (a is JsonObject check && check.ContainsKey("ok"))
                    {
                        yield return new Check($"app/{target}/{app}", "app", $"{target} {app}", AppFields.Select(f => (f, Value(check[f]))).ToList());
                    }
                }
            }
        }
    }

    /// <summary>A value as compared: arrays sorted (retrieved records are a set), absent as null.</summary>
    private static JsonNode? Value(JsonNode? node) => node switch
    {
        null => null,
        JsonArray array => new JsonArray([.. array.Select(n => n?.DeepClone()).OrderBy(n => n?.ToJsonString(), StringComparer.Ordinal)]),
        JsonValue v when v.GetValueKind() == JsonValueKind.Null => null,
        _ => node.DeepClone(),
    };
}
