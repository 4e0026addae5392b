using System.Text.Json.Nodes;

namespace RemoteTest.Api;

/// <summary>
/// What the locations of a fan-out saw differently: every value in the children's results that is not the
/// same everywhere (a port open from one location and closed from another, DNS answers that differ, a
/// certificate seen from one side only). Timings, TTLs and the worker stamp differ by nature and are left out.
/// Works on any task's result shape, so a new task gets differences for free.
/// </summary>
public static class GroupDifferences
{
    /// <summary>Most differences reported; the answer says when more were found.</summary>
    public const int MaxReported = 200;

    private static readonly string[] NoisySuffixes = ["_ms", "_sec", "_seconds"];
    private static readonly HashSet<string> NoisyNames = new(StringComparer.Ordinal)
    {
        "ttl", "duration", "duration_sec", "days_left", "worker", "location", "text", "fingerprint_sha256_chain",
    };

    /// <summary>
    /// Compares the results by queue; each difference is <c>{"path": [...], "values": {queue: value}}</c>,
    /// a queue whose result lacks the path showing null. Paths are arrays because host names contain dots.
    /// </summary>
    public static (JsonArray Differences, bool Truncated) Compute(IReadOnlyDictionary<string, JsonNode?> results)
    {
        var flat = results.ToDictionary(r => r.Key, r =>
        {
            var leaves = new Dictionary<string, (string[] Path, JsonNode? Value)>(StringComparer.Ordinal);
            Flatten(r.Value, [], leaves);
            return leaves;
        }, StringComparer.Ordinal);

        var differences = new JsonArray();
        var truncated = false;
        if (flat.Count < 2)
        {
            return (differences, false);
        }
        var keys = flat.Values.SelectMany(l => l.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            string[]? path = null;
            var rendered = new HashSet<string>(StringComparer.Ordinal);
            foreach (var leaves in flat.Values)
            {
                if (leaves.TryGetValue(key, out var leaf))
                {
                    path ??= leaf.Path;
                    rendered.Add(leaf.Value?.ToJsonString() ?? "null");
                }
                else
                {
                    rendered.Add("<missing>");
                }
            }
            if (rendered.Count < 2)
            {
                continue;
            }
            if (differences.Count == MaxReported)
            {
                truncated = true;
                break;
            }
            var values = new JsonObject();
            foreach (var (queue, leaves) in flat.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                values[queue] = leaves.TryGetValue(key, out var leaf) ? leaf.Value?.DeepClone() : null;
            }
            differences.Add(new JsonObject
            {
                ["path"] = new JsonArray(path!.Select(p => (JsonNode)JsonValue.Create(p)).ToArray()),
                ["values"] = values,
            });
        }
        return (differences, truncated);
    }

    private static bool IsDnsDomain(JsonObject o) => o.ContainsKey("retrieved") && o.ContainsKey("state");

    private static bool IsNoisy(string name) =>
        NoisyNames.Contains(name) || NoisySuffixes.Any(s => name.EndsWith(s, StringComparison.Ordinal));

    /// <summary>Objects are walked member by member; arrays and scalars are compared whole (sorted lists stay comparable).</summary>
    private static void Flatten(JsonNode? node, List<string> path, Dictionary<string, (string[], JsonNode?)> leaves)
    {
        if (node is JsonObject o)
        {
            if (path.Count == 2 && path[0] == "results" && IsDnsDomain(o))
            {
                // A DNS domain's verdict by the one rule (Tasks.DnsVerdict), so locations that judge it differently
                // show as a difference even for results stored before the task wrote "ok" itself.
                path.Add("ok");
                leaves[string.Join('\u001f', path)] = ([.. path], JsonValue.Create(Tasks.DnsVerdict.DomainOk(o)));
                path.RemoveAt(path.Count - 1);
            }
            foreach (var (name, value) in o)
            {
                if (IsNoisy(name) || (name == "ok" && path.Count == 2 && path[0] == "results" && IsDnsDomain(o)))
                {
                    continue;
                }
                path.Add(name);
                Flatten(value, path, leaves);
                path.RemoveAt(path.Count - 1);
            }
            return;
        }
        // The key joins segments with a character no JSON member name in a result uses unescaped.
        leaves[string.Join('\u001f', path)] = ([.. path], node);
    }
}
