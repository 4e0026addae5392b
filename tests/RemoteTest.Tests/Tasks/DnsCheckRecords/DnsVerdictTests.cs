using System.Text.Json.Nodes;
using RemoteTest.Api;
using RemoteTest.Engine;
using RemoteTest.Tasks;

namespace RemoteTest.Tests;

/// <summary>The one DNS verdict rule (Tasks/DnsVerdict.cs) and the consumers that read it: schedules, group differences, the CLI.</summary>
public sealed class DnsVerdictTests
{
    private static JsonObject Domain(string state, params (string Server, string State, string? ErrorKind)[] servers)
    {
        var by = new JsonObject();
        foreach (var (server, s, kind) in servers)
        {
            by[server] = new JsonObject
            {
                ["state"] = s,
                ["rcode"] = kind is null ? "NOERROR" : null,
                ["error"] = kind is null ? null : "LifetimeTimeout: ...",
                ["error_kind"] = kind,
            };
        }
        var d = new JsonObject { ["record_type"] = "A", ["retrieved"] = new JsonArray(), ["state"] = state, ["error"] = null };
        if (servers.Length > 0)
        {
            d["by_nameserver"] = by;
        }
        return d;
    }

    private static JsonObject Result(JsonObject domain) => new() { ["summary"] = new JsonObject(), ["results"] = new JsonObject { ["sip.test"] = domain } };

    [Fact]
    public void The_rule_over_resolvers()
    {
        DnsVerdict.ResolverView V(string s, bool answered = true, string? error = null) => new(s, error, answered);
        Assert.Equal("13056", DnsVerdict.DomainState([V("13056"), V("13056")]));
        Assert.Equal("inconsistent", DnsVerdict.DomainState([V("13056"), V("original")]));
        Assert.Equal("13056", DnsVerdict.DomainState([V("13056"), V("unknown", false, "timeout")]));
        Assert.Equal("unknown", DnsVerdict.DomainState([V("unknown", false, "t"), V("unknown", false, "t")]));
        Assert.True(DnsVerdict.DomainOk("13056", null, [V("13056"), V("13056")]));
        Assert.False(DnsVerdict.DomainOk("13056", null, [V("13056"), V("unknown", false, "timeout")]));
        Assert.False(DnsVerdict.DomainOk("inconsistent", null, [V("13056"), V("original")]));
        Assert.True(DnsVerdict.DomainOk("original", null, []));
        Assert.False(DnsVerdict.DomainOk("unknown", null, []));
        Assert.False(DnsVerdict.DomainOk("original", "NXDOMAIN", []));
    }

    [Fact]
    public void Stored_results_without_ok_are_judged_by_the_same_rule_and_ok_wins_when_present()
    {
        Assert.True(DnsVerdict.DomainOk(Domain("13056", ("a:53", "13056", null), ("b:53", "13056", null))));
        Assert.False(DnsVerdict.DomainOk(Domain("13056", ("a:53", "13056", null), ("b:53", "unknown", "timeout"))));
        var written = Domain("13056");
        written["ok"] = false;
        Assert.False(DnsVerdict.DomainOk(written));
        Assert.Equal("13056 (b:53 timeout)", DnsVerdict.Outcome(Domain("13056", ("a:53", "13056", null), ("b:53", "unknown", "timeout"))));
        Assert.Equal("13056", DnsVerdict.Outcome(Domain("13056")));
    }

    [Fact]
    public void A_schedule_with_notify_change_announces_a_resolver_going_silent()
    {
        var healthy = ResultObservations.From(Result(Domain("13056", ("a:53", "13056", null), ("b:53", "13056", null))).ToJsonString(), DateTimeOffset.UtcNow);
        var silent = ResultObservations.From(Result(Domain("13056", ("a:53", "13056", null), ("b:53", "unknown", "timeout"))).ToJsonString(), DateTimeOffset.UtcNow);
        var (first, _) = ScheduleNotifications.Evaluate("change", [21], null, "SUCCESS", healthy);
        var (_, n) = ScheduleNotifications.Evaluate("change", [21], first, "SUCCESS", silent);
        Assert.Equal("sip.test: 13056 → 13056 (b:53 timeout)", n!.Summary);
        Assert.Contains(silent.Probes, p => p is { Probe: "dns", Outcome: "timeout" });
    }

    [Fact]
    public void Group_differences_show_locations_that_judge_a_domain_differently()
    {
        // Same state everywhere, but from one location a resolver did not answer: the verdict differs.
        var fra = Result(Domain("13056", ("a:53", "13056", null), ("b:53", "13056", null)));
        var dfw = Result(Domain("13056", ("a:53", "13056", null), ("b:53", "unknown", "timeout")));
        var (differences, _) = GroupDifferences.Compute(new Dictionary<string, JsonNode?> { ["fra"] = fra, ["dfw"] = dfw });
        var ok = differences.OfType<JsonObject>().Single(d => d["path"]!.AsArray().Select(p => p!.GetValue<string>()).SequenceEqual(["results", "sip.test", "ok"]));
        Assert.True(ok["values"]!["fra"]!.GetValue<bool>());
        Assert.False(ok["values"]!["dfw"]!.GetValue<bool>());
    }

    [Fact]
    public void The_cli_exit_code_and_expect_use_the_rule()
    {
        var silent = Result(Domain("13056", ("a:53", "13056", null), ("b:53", "unknown", "timeout")));
        Assert.False(RemoteTest.Cli.ResultView.Passed("dns.check_records", silent));
        Assert.True(RemoteTest.Cli.ResultView.Passed("dns.check_records", Result(Domain("13056", ("a:53", "13056", null)))));
    }
}
