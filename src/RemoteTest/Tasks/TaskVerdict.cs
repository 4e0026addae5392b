using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Store;

namespace RemoteTest.Tasks;

/// <summary>
/// Whether a finished task's <i>checks</i> passed (its <c>state</c> only says whether it <i>ran</i>): the one rule
/// behind <c>verdict</c> on the wire, the history filter and the UI/CLI badges. The runner computes it once when the
/// task finishes and the store keeps it beside the state; answers add the counts from the stored result.
/// </summary>
/// <remarks>
/// Values: <see cref="Pass"/> every check passed, <see cref="Fail"/> every check failed, <see cref="Partial"/> some
/// failed and some passed, <see cref="Error"/> the task itself failed (FAILURE). None (null) while the task is not
/// finished, and for REVOKED (it was stopped: nothing was judged). The checks counted per task, each by the task's own
/// <c>ok</c> rule: <c>dns.check_records</c> one per domain (<see cref="DnsVerdict.DomainOk(JsonObject)"/>);
/// <c>porttest.run</c> one per host × port (failed when listed in the host's <c>failed_ports</c>; a host that could
/// not be checked at all is one failed check); <c>apptest.run</c> one per host × application (its <c>ok</c>); <c>path.trace</c> one per host × port (reached). Any other
/// task: <c>summary.ok</c> decides pass or fail, and pass when it reports none. A <c>summary.ok</c> of false never
/// yields pass, so the verdict and the CLI's exit code cannot disagree.
/// </remarks>
public static class TaskVerdict
{
    public const string Pass = "pass";
    public const string Fail = "fail";
    public const string Partial = "partial";
    public const string Error = "error";

    /// <summary>Every value, in the order the API documents them.</summary>
    public static readonly IReadOnlyList<string> Values = [Pass, Fail, Partial, Error];

    /// <summary>A verdict and, when the result gives them, how many checks passed and failed.</summary>
    public sealed record Judgement(string Verdict, int? Passed, int? Failed);

    /// <summary>The verdict of a task in <paramref name="state"/> with the stored <paramref name="result"/> (JSON text); null while unfinished or REVOKED.</summary>
    public static string? Of(string taskName, TaskState state, string? result) => Judge(taskName, state, result)?.Verdict;

    /// <summary>The verdict with its counts; null while unfinished or REVOKED.</summary>
    public static Judgement? Judge(string taskName, TaskState state, string? result)
    {
        switch (state)
        {
            case TaskState.Failure:
                return new Judgement(Error, null, null);
            case not TaskState.Success:
                return null;
        }
        JsonNode? node;
        try
        {
            node = result is null ? null : JsonNode.Parse(result);
        }
        catch (JsonException)
        {
            node = null;
        }
        var summaryOk = node?["summary"]?["ok"] is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
            ? v.GetValue<bool>() : (bool?)null;
        var (passed, failed) = Count(taskName, node?["results"] as JsonObject);
        if (passed is null || failed is null || passed + failed == 0)
        {
            return new Judgement(summaryOk == false ? Fail : Pass, passed, failed);
        }
        var verdict = failed == 0 ? (summaryOk == false ? Fail : Pass) : passed == 0 ? Fail : Partial;
        return new Judgement(verdict, passed, failed);
    }

    /// <summary>
    /// One verdict over several tasks (a fan-out group): the common one when they agree; partial when some passed and
    /// others did not; else fail. Null when none has a verdict.
    /// </summary>
    public static string? Combine(IEnumerable<string?> verdicts)
    {
        var known = verdicts.Where(v => v is not null).Distinct().ToList();
        return known.Count switch
        {
            0 => null,
            1 => known[0],
            _ => known.Contains(Pass) || known.Contains(Partial) ? Partial : Fail,
        };
    }

    /// <summary>Whether <paramref name="value"/> is a verdict (the history filter's check).</summary>
    public static bool IsValue(string? value) => value is not null && Values.Contains(value);

    private static (int? Passed, int? Failed) Count(string taskName, JsonObject? results)
    {
        if (results is null)
        {
            return (null, null);
        }
        int passed = 0, failed = 0;
        switch (taskName)
        {
            case "dns.check_records":
                foreach (var (_, domain) in results)
                {
                    if (domain is JsonObject d && DnsVerdict.DomainOk(d)) passed++; else failed++;
                }
                return (passed, failed);
            case "porttest.run":
                foreach (var (_, host) in results)
                {
                    if (host is not JsonObject h)
                    {
                        continue;
                    }
                    var ports = (h["ports"] as JsonObject)?.Select(kv => kv.Key).ToHashSet() ?? [];
                    var failedPorts = (h["failed_ports"] as JsonArray ?? []).Select(p => p?.ToString()).Where(p => p is not null).ToHashSet();
                    if (ports.Count == 0)
                    {
                        // The host could not be checked at all (its name did not resolve): one failed check.
                        if (h["error"] is JsonValue) failed++;
                        failed += failedPorts.Count;
                        continue;
                    }
                    var bad = ports.Count(p => failedPorts.Contains(p));
                    failed += Math.Max(bad, failedPorts.Count);
                    passed += ports.Count - bad;
                }
                return (passed, failed);
            case "apptest.run":
                foreach (var (_, host) in results)
                {
                    foreach (var (_, app) in host as JsonObject ?? [])
                    {
                        if (app?["ok"] is JsonValue ok && ok.GetValueKind() == JsonValueKind.True) passed++; else failed++;
                    }
                }
                return (passed, failed);
            case "path.trace":
                // One check per host × port (or "icmp"): it passed when the trace reached its target.
                foreach (var (_, host) in results)
                {
                    foreach (var (_, trace) in (host as JsonObject)?["ports"] as JsonObject ?? [])
                    {
                        if (trace?["reached"] is JsonValue reached && reached.GetValueKind() == JsonValueKind.True) passed++; else failed++;
                    }
                }
                return (passed, failed);
            default:
                return (null, null);
        }
    }
}
