using System.Text.Json.Nodes;
using RemoteTest.Engine;

namespace RemoteTest.Tests.Operations;

/// <summary>Reading result shapes (DESIGN.md) into outcomes, and the change and threshold rules of schedules.</summary>
public sealed class OutcomeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static ResultObservations Read(JsonObject result) => ResultObservations.From(result.ToJsonString(), Now);

    [Fact]
    public void Dns_porttest_and_apptest_results_give_outcomes_certificates_and_probe_outcomes()
    {
        var dns = Read(new JsonObject
        {
            ["summary"] = new JsonObject { ["domains"] = 2 },
            ["results"] = new JsonObject
            {
                ["akixi.altvoip.com"] = new JsonObject { ["state"] = "13056", ["error"] = null },
                ["akixi.mymtm.us"] = new JsonObject { ["state"] = "unknown", ["error"] = "timed out", ["error_kind"] = "timeout" },
            },
        });
        Assert.Equal("13056", dns.Outcome["akixi.altvoip.com"]);
        Assert.Equal(["ok", "timeout"], dns.Probes.Select(p => p.Outcome).Order());

        var ports = Read(ScheduleTests.PortResult(10.2, "adp50.mymtm.us"));
        Assert.Equal("5060", ports.Outcome["adp50.mymtm.us failed ports"]);
        var cert = Assert.Single(ports.Certificates);
        Assert.Equal(("adp50.mymtm.us", "443", 10.0), (cert.Host, cert.Port, cert.DaysLeft));
        Assert.Contains(ports.Probes, p => p is { Probe: "tcp", Outcome: "refused" });
        Assert.Contains(ports.Probes, p => p is { Probe: "tcp", Outcome: "ok", Seconds: 0.0015 });
        Assert.Contains(ports.Probes, p => p is { Probe: "tls", Outcome: "ok" });

        var apps = Read(new JsonObject
        {
            ["results"] = new JsonObject
            {
                ["adp50.mymtm.us"] = new JsonObject
                {
                    ["Xsi-Actions"] = new JsonObject { ["ok"] = true, ["error"] = null },
                    ["BWCallCenter"] = new JsonObject { ["ok"] = false, ["error"] = "HTTP 500", ["error_kind"] = "http_status" },
                },
            },
        });
        Assert.Equal("ok", apps.Outcome["adp50.mymtm.us Xsi-Actions"]);
        Assert.Equal("failed", apps.Outcome["adp50.mymtm.us BWCallCenter"]);
        Assert.Contains(apps.Probes, p => p is { Probe: "app", Outcome: "http_status" });
    }

    [Fact]
    public void The_original_not_after_format_is_read_when_expires_utc_is_missing()
    {
        var result = ScheduleTests.PortResult(10);
        var tls = result["results"]!["adp50.example.test"]!["ports"]!["443"]!["tls"]!.AsObject();
        tls.Remove("expires_utc");
        tls.Remove("days_left");
        tls["not_after"] = "Dec  7 04:00:00 2026 GMT";
        var cert = Assert.Single(Read(result).Certificates);
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 4, 0, 0, TimeSpan.Zero), cert.NotAfter);
        Assert.Equal(9.67, cert.DaysLeft, 2);
    }

    [Fact]
    public void Unrecognised_or_broken_results_give_nothing()
    {
        Assert.Same(ResultObservations.Empty, ResultObservations.From(null, Now));
        Assert.Same(ResultObservations.Empty, ResultObservations.From("{not json", Now));
        Assert.Same(ResultObservations.Empty, ResultObservations.From("[1,2]", Now));
        Assert.Empty(ResultObservations.From("{\"results\":{\"h\":{\"x\":1}}}", Now).Outcome);
    }

    [Fact]
    public void Change_posts_a_summary_of_what_differs_and_nothing_on_the_first_or_an_equal_run()
    {
        ResultObservations Dns(string state) => new(new Dictionary<string, string> { ["akixi.altvoip.com"] = state, ["akixi.mymtm.us"] = "original" }, [], []);
        var (first, n1) = ScheduleNotifications.Evaluate("change", [21, 14, 7], null, "SUCCESS", Dns("original"));
        Assert.Null(n1);
        var (second, n2) = ScheduleNotifications.Evaluate("change", [21, 14, 7], first, "SUCCESS", Dns("13056"));
        Assert.Equal("akixi.altvoip.com: original → 13056", n2!.Summary);
        var (_, n3) = ScheduleNotifications.Evaluate("change", [21, 14, 7], second, "SUCCESS", Dns("13056"));
        Assert.Null(n3);
        var (_, n4) = ScheduleNotifications.Evaluate("change", [21, 14, 7], second, "FAILURE", ResultObservations.Empty);
        Assert.Equal("akixi.altvoip.com: 13056 → absent; akixi.mymtm.us: original → absent; task: SUCCESS → FAILURE", n4!.Summary);
    }

    [Fact]
    public void Without_notify_every_run_posts_and_with_cert_expiry_only_crossings()
    {
        var (_, every) = ScheduleNotifications.Evaluate(null, [21, 14, 7], null, "SUCCESS", ResultObservations.Empty);
        Assert.Equal("task.ready", every!.Event);

        ResultObservations Cert(double days) => new(new Dictionary<string, string>(), [new CertificateObservation("h", "443", Now.AddDays(days), days)], []);
        var outcome = (string?)null;
        var events = new List<string?>();
        foreach (var days in new[] { 25.0, 20, 15, 14, 3, 60, 21 })
        {
            (outcome, var n) = ScheduleNotifications.Evaluate("cert_expiry", [21, 14, 7], outcome, "SUCCESS", Cert(days));
            events.Add(n?.Summary?.Split("below ")[1]);
        }
        Assert.Equal([null, "21 days", null, "14 days", "7 days", null, "21 days"], events);
    }

    [Fact]
    public void The_occurrence_of_a_fire_is_the_latest_due_one_whatever_the_cron()
    {
        var berlin = ScheduleTiming.Parse("0 3 * * *", "Europe/Berlin");
        // 12:00 UTC = 13:00 in Berlin: today's 03:00 Berlin = 02:00 UTC.
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero), berlin.Occurrence(Now).ToUniversalTime());
        var seconds = ScheduleTiming.Parse("*/10 * * * * *", "UTC");
        Assert.Equal(Now.AddSeconds(-10), seconds.Occurrence(Now.AddSeconds(-1)));
        var yearly = ScheduleTiming.Parse("0 0 1 1 *", "UTC");
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), yearly.Occurrence(Now));
        Assert.Equal(yearly.Occurrence(Now), yearly.Occurrence(Now.AddSeconds(1.5)));
        Assert.Throws<FormatException>(() => ScheduleTiming.Parse("0 3 * * *", "Nowhere/City"));
        Assert.Throws<FormatException>(() => ScheduleTiming.Parse("0 3 * *", "UTC"));
    }
}
