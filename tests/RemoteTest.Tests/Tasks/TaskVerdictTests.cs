using RemoteTest.Store;
using RemoteTest.Tasks;

namespace RemoteTest.Tests;

/// <summary>The verdict rule (Tasks/TaskVerdict) on stored results of every task.</summary>
public sealed class TaskVerdictTests
{
    [Theory]
    [InlineData("""{"summary":{"ok":true},"results":{"h":{"ports":{"22":{"open":true},"443":{"open":true}},"failed_ports":[]}}}""", "pass", 2, 0)]
    [InlineData("""{"summary":{"ok":false},"results":{"h":{"ports":{"22":{"open":true},"23":{"open":false}},"failed_ports":[23]}}}""", "partial", 1, 1)]
    [InlineData("""{"summary":{"ok":false},"results":{"h":{"ports":{"23":{"open":false}},"failed_ports":[23]}}}""", "fail", 0, 1)]
    [InlineData("""{"summary":{"ok":false},"results":{"nosuch.invalid":{"ports":{},"failed_ports":[],"error":"host not found"}}}""", "fail", 0, 1)]
    public void Porttest_counts_host_port_checks(string result, string verdict, int passed, int failed)
    {
        var j = TaskVerdict.Judge("porttest.run", TaskState.Success, result);
        Assert.Equal(new TaskVerdict.Judgement(verdict, passed, failed), j);
    }

    [Theory]
    [InlineData("""{"summary":{},"results":{"a.test":{"state":"original","ok":true},"b.test":{"state":"unknown","ok":false}}}""", "partial")]
    [InlineData("""{"summary":{},"results":{"a.test":{"state":"original","ok":true}}}""", "pass")]
    // A result stored before "ok" existed is judged by DnsVerdict's rule from its state and error.
    [InlineData("""{"summary":{},"results":{"a.test":{"state":"unknown","error":null}}}""", "fail")]
    public void Dns_counts_domains_by_the_dns_rule(string result, string verdict) =>
        Assert.Equal(verdict, TaskVerdict.Of("dns.check_records", TaskState.Success, result));

    [Fact]
    public void Apptest_counts_applications()
    {
        var j = TaskVerdict.Judge("apptest.run", TaskState.Success,
            """{"summary":{"ok":false},"results":{"h1":{"xsp":{"ok":true},"dms":{"ok":false}},"h2":{"xsp":{"ok":false}}}}""");
        Assert.Equal(new TaskVerdict.Judgement("partial", 1, 2), j);
    }

    [Theory]
    [InlineData("""{"summary":{"ok":true},"results":{}}""", "pass")]
    [InlineData("""{"summary":{"ok":false},"results":{"x":{}}}""", "fail")]
    [InlineData("""{"summary":{}}""", "pass")]
    public void Unknown_tasks_follow_summary_ok(string result, string verdict) =>
        Assert.Equal(verdict, TaskVerdict.Of("some.future_task", TaskState.Success, result));

    [Fact]
    public void Path_trace_counts_traces_that_reached_their_target()
    {
        var j = TaskVerdict.Judge("path.trace", TaskState.Success,
            """{"summary":{"ok":false},"results":{"10.0.0.2":{"ports":{"443":{"end":"reached","reached":true},"8443":{"end":"filtered","reached":false}}},"10.0.0.3":{"ports":{"icmp":{"end":"reached","reached":true}}}}}""");
        Assert.Equal(new TaskVerdict.Judgement("partial", 2, 1), j);
        Assert.Equal("pass", TaskVerdict.Of("path.trace", TaskState.Success,
            """{"summary":{"ok":true},"results":{"h":{"ports":{"443":{"reached":true}}}}}"""));
    }

    [Fact]
    public void Summary_ok_false_never_passes_and_states_decide_the_rest()
    {
        // Every counted check passed, but the task said not ok (e.g. a host-level problem): not a pass.
        Assert.Equal("fail", TaskVerdict.Of("apptest.run", TaskState.Success, """{"summary":{"ok":false},"results":{"h":{"xsp":{"ok":true}}}}"""));
        Assert.Equal("error", TaskVerdict.Of("porttest.run", TaskState.Failure, null));
        Assert.Null(TaskVerdict.Of("porttest.run", TaskState.Revoked, null));
        Assert.Null(TaskVerdict.Of("porttest.run", TaskState.Started, null));
        Assert.Null(TaskVerdict.Of("porttest.run", TaskState.Pending, null));
    }

    [Fact]
    public void A_group_combines_its_children()
    {
        Assert.Equal("pass", TaskVerdict.Combine(["pass", "pass"]));
        Assert.Equal("partial", TaskVerdict.Combine(["pass", "fail"]));
        Assert.Equal("fail", TaskVerdict.Combine(["fail", "error"]));
        Assert.Null(TaskVerdict.Combine([null, null]));
    }
}
