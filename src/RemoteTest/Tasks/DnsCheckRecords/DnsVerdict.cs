using System.Text.Json;
using System.Text.Json.Nodes;

#if REMOTETEST_CLI
namespace RemoteTest.Cli.Verdicts;
#else
namespace RemoteTest.Tasks;
#endif

/// <summary>
/// The one rule that says whether a DNS domain (and a whole <c>dns.check_records</c> result) passed. The task
/// applies it when it builds its result (the domain's <c>state</c> and <c>ok</c>, <c>summary.ok</c>); everything
/// that reads a stored result — the CLI's exit code and <c>--expect</c> (this file is compiled into the CLI too),
/// schedules' <c>notify: change</c>, metrics, fan-out group differences — calls <see cref="DomainOk(JsonObject)"/>
/// and the UI reads the <c>ok</c> it wrote. No consumer keeps its own copy.
/// </summary>
/// <remarks>
/// The rule: the domain's state is the state every resolver that <i>answered</i> (any rcode) agrees on, else
/// <see cref="Inconsistent"/>; it is ok only when every resolver asked answered without an error, and that state
/// is a named one (not <see cref="Unknown"/> nor <see cref="Inconsistent"/>). One resolver (the original's case):
/// ok = no error and a named state, as before. With <c>authoritative: true</c> the authoritative servers count
/// as views too, and the domain is ok only when they also agree on the zone's SOA serial.
/// </remarks>
public static class DnsVerdict
{
    public const string Unknown = "unknown";

    /// <summary>The state of a domain whose answering resolvers disagree on its state.</summary>
    public const string Inconsistent = "inconsistent";

    /// <summary>One resolver's view of a domain: its state and its error (null when it answered with records).</summary>
    public readonly record struct ResolverView(string State, string? Error, bool Answered);

    /// <summary>The domain's state from every resolver's view: the state the answering ones agree on, else inconsistent.</summary>
    public static string DomainState(IReadOnlyList<ResolverView> views)
    {
        var answered = views.Where(v => v.Answered).Select(v => v.State).Distinct(StringComparer.Ordinal).ToList();
        return answered.Count switch
        {
            0 => Unknown,
            1 => answered[0],
            _ => Inconsistent,
        };
    }

    /// <summary>Whether the domain passed: every resolver answered without error, all agree, and the state is a named one.</summary>
    public static bool DomainOk(string state, string? error, IReadOnlyList<ResolverView> views) =>
        error is null && IsNamed(state) && views.All(v => v.Error is null && v.State == state);

    /// <summary>A state a user named (not unknown, not inconsistent).</summary>
    public static bool IsNamed(string? state) => state is not null && state != Unknown && state != Inconsistent;

    /// <summary>
    /// The rule on a stored domain result: its <c>ok</c> when the task wrote one, else the rule applied to its
    /// <c>state</c>, <c>error</c> and <c>by_nameserver</c> (results stored before <c>ok</c> existed).
    /// </summary>
    public static bool DomainOk(JsonObject domain)
    {
        if (domain["ok"] is JsonValue ok && ok.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return ok.GetValue<bool>();
        }
        var views = (domain["by_nameserver"] as JsonObject ?? [])
            .Select(kv => kv.Value as JsonObject)
            .Where(v => v is not null)
            .Select(v => new ResolverView(Text(v!["state"]) ?? Unknown, Text(v["error"]), Text(v["rcode"]) is not null))
            .ToList();
        var authoritativeOk = domain["authoritative"]?["consistent"] is not JsonValue c || c.GetValueKind() != JsonValueKind.False;
        return authoritativeOk && DomainOk(Text(domain["state"]) ?? Unknown, Text(domain["error"]), views);
    }

    /// <summary>
    /// What a schedule compares between runs for a domain: its state, plus the resolvers that failed when the
    /// domain is not ok for that reason alone (so a resolver going silent is a change, too).
    /// </summary>
    public static string Outcome(JsonObject domain)
    {
        var state = Text(domain["state"]) ?? Unknown;
        if (DomainOk(domain) || domain["by_nameserver"] is not JsonObject servers)
        {
            return state;
        }
        var failing = servers.Where(kv => kv.Value is JsonObject v && Text(v["error"]) is not null)
            .Select(kv => $"{kv.Key} {Text(kv.Value!["error_kind"]) ?? "error"}")
            .Order(StringComparer.Ordinal).ToList();
        return failing.Count == 0 ? state : $"{state} ({string.Join(", ", failing)})";
    }

    /// <summary>Every domain of a result passed.</summary>
    public static bool ResultOk(JsonNode? result) =>
        (result?["results"] as JsonObject ?? []).All(kv => kv.Value is JsonObject d && DomainOk(d));

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
