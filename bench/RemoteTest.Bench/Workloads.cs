using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace RemoteTest.Bench;

/// <summary>The small task that workloads a and b submit over and over, and how to check its result.</summary>
public sealed record RepeatedTask(string Description, byte[] Body, Func<JsonNode?, int> CountWrong);

/// <summary>The figures of one workload on one system: a line to print and named values for the table and JSON.</summary>
public sealed record WorkloadResult(string Workload, string Line, Dictionary<string, double?> Figures)
{
    public double? this[string key] => Figures.GetValueOrDefault(key);
}

/// <summary>
/// The workloads of issue 8, run against one system. Every loop is bounded by a count and by
/// <see cref="BenchSettings.TaskDeadline"/>; every target is on 127.0.0.0/8.
/// </summary>
public sealed class Workloads(SystemUnderTest system, BenchSettings settings)
{
    private static double Ms(TimeSpan t) => Math.Round(t.TotalMilliseconds, 2);

    /// <summary>a: sequential tasks, polling every few ms; submit→SUCCESS percentiles and the POST alone.</summary>
    public async Task<WorkloadResult> LatencyAsync(RepeatedTask task, CancellationToken cancellationToken)
    {
        using var client = new WireClient(system.Url, settings.Token);
        for (var i = 0; i < settings.Warmup; i++)
        {
            var id = await client.SubmitAsync(task.Body, cancellationToken);
            await client.WaitAsync(id, settings.Poll, settings.TaskDeadline, cancellationToken);
        }
        var e2e = new List<TimeSpan>();
        var post = new List<TimeSpan>();
        var serverSide = new List<TimeSpan>();
        var polls = new List<double>();
        int failed = 0, timeouts = 0, wrong = 0;
        for (var i = 0; i < settings.LatencyTasks; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            var id = await client.SubmitAsync(task.Body, cancellationToken);
            post.Add(Stopwatch.GetElapsedTime(t0));
            var outcome = await client.WaitAsync(id, settings.Poll, settings.TaskDeadline, cancellationToken);
            polls.Add(outcome.Polls);
            switch (outcome.State)
            {
                case "SUCCESS":
                    e2e.Add(Stopwatch.GetElapsedTime(t0, outcome.SeenTimestamp));
                    wrong += task.CountWrong(outcome.Body["result"]);
                    if (ServerSideDuration(outcome.Body) is { } s)
                    {
                        serverSide.Add(s);
                    }
                    break;
                case "TIMEOUT":
                    timeouts++;
                    break;
                default:
                    failed++;
                    break;
            }
        }
        var f = new Dictionary<string, double?>
        {
            ["n"] = settings.LatencyTasks,
            ["ok"] = e2e.Count,
            ["failed"] = failed,
            ["timeouts"] = timeouts,
            ["wrong"] = wrong,
            ["e2e_p50_ms"] = P(e2e, 50),
            ["e2e_p95_ms"] = P(e2e, 95),
            ["e2e_p99_ms"] = P(e2e, 99),
            ["e2e_max_ms"] = P(e2e, 100),
            ["post_p50_ms"] = P(post, 50),
            ["post_p99_ms"] = P(post, 99),
            ["server_p50_ms"] = P(serverSide, 50),
            ["server_p99_ms"] = P(serverSide, 99),
            ["polls_mean"] = polls.Count == 0 ? null : Math.Round(polls.Average(), 2),
        };
        var line = $"a latency     {settings.LatencyTasks} sequential {task.Description}, polling every {settings.Poll.TotalMilliseconds:0} ms: " +
                   $"ok={e2e.Count} fail={failed} timeout={timeouts} wrong={wrong} | submit→SUCCESS p50={f["e2e_p50_ms"]} p95={f["e2e_p95_ms"]} " +
                   $"p99={f["e2e_p99_ms"]} max={f["e2e_max_ms"]} ms | POST p50={f["post_p50_ms"]} p99={f["post_p99_ms"]} ms | " +
                   $"server submitted→done p50={Show(f["server_p50_ms"])} ms | polls/task {f["polls_mean"]}";
        return new WorkloadResult("a", line, f);
    }

    /// <summary>
    /// b: every client submits its share as fast as it can, then waits for its own tasks oldest first; tasks
    /// per second from the first submit to the last SUCCESS seen. Memory is sampled for the peak meanwhile.
    /// </summary>
    public async Task<WorkloadResult> ThroughputAsync(RepeatedTask task, int count, string label, CancellationToken cancellationToken)
    {
        var clients = settings.Clients;
        var shares = Enumerable.Range(0, clients).Select(i => count / clients + (i < count % clients ? 1 : 0)).ToArray();
        var post = new List<TimeSpan>();
        long firstSubmit = long.MaxValue, lastSubmit = 0, lastSuccess = 0;
        int ok = 0, failed = 0, timeouts = 0, errors = 0, wrong = 0, requests = 0;
        var gate = new object();
        using var ready = new SemaphoreSlim(0, clients);
        using var start = new SemaphoreSlim(0, clients);

        async Task Client(int share)
        {
            using var client = new WireClient(system.Url, settings.Token);
            var ids = new List<string>(share);
            var latencies = new List<TimeSpan>(share);
            var myErrors = 0;
            // Open the connection before the clock starts, as a long-lived client would have it open.
            await client.GetJsonAsync("/", cancellationToken);
            ready.Release();
            await start.WaitAsync(cancellationToken);
            var first = Stopwatch.GetTimestamp();
            for (var i = 0; i < share; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    ids.Add(await client.SubmitAsync(task.Body, cancellationToken));
                    latencies.Add(Stopwatch.GetElapsedTime(t0));
                }
                catch (Exception ex) when (ex is BenchException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    myErrors++;
                }
            }
            var last = Stopwatch.GetTimestamp();
            int myOk = 0, myFailed = 0, myTimeouts = 0, myWrong = 0;
            long mySeen = 0;
            foreach (var id in ids)
            {
                // Tasks finish roughly in submission order: waiting for the oldest first wastes the fewest polls.
                PollOutcome outcome;
                try
                {
                    outcome = await client.WaitAsync(id, settings.ThroughputPoll, settings.TaskDeadline, cancellationToken);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    myErrors++;
                    continue;
                }
                switch (outcome.State)
                {
                    case "SUCCESS":
                        myOk++;
                        mySeen = Math.Max(mySeen, outcome.SeenTimestamp);
                        myWrong += task.CountWrong(outcome.Body["result"]);
                        break;
                    case "TIMEOUT":
                        myTimeouts++;
                        break;
                    default:
                        myFailed++;
                        break;
                }
            }
            lock (gate)
            {
                firstSubmit = Math.Min(firstSubmit, first);
                lastSubmit = Math.Max(lastSubmit, last);
                lastSuccess = Math.Max(lastSuccess, mySeen);
                ok += myOk;
                failed += myFailed;
                timeouts += myTimeouts;
                wrong += myWrong;
                errors += myErrors;
                requests += client.Requests;
                post.AddRange(latencies);
            }
        }

        var cpu0 = Machine.CpuSeconds(system.Pids);
        // The harness's own CPU: its clients share the machine's cores with the system under test.
        var clientCpu0 = Environment.CpuUsage.TotalTime;
        double peakRss, peakPss;
        await using (var sampler = new PeakMemorySampler(system.Pids, settings.TaskDeadline + TimeSpan.FromMinutes(10)))
        {
            var running = shares.Select(s => Task.Run(() => Client(s), cancellationToken)).ToArray();
            for (var i = 0; i < clients; i++)
            {
                if (!await ready.WaitAsync(TimeSpan.FromMinutes(1), cancellationToken))
                {
                    throw new BenchException("clients could not connect within a minute");
                }
            }
            start.Release(clients);
            await Task.WhenAll(running).WaitAsync(settings.TaskDeadline + TimeSpan.FromMinutes(10), cancellationToken);
            peakRss = sampler.PeakRssMb;
            peakPss = sampler.PeakPssMb;
        }
        var cpu1 = Machine.CpuSeconds(system.Pids);
        var clientCpu = Environment.CpuUsage.TotalTime - clientCpu0;

        double? span = lastSuccess > 0 ? Stopwatch.GetElapsedTime(firstSubmit, lastSuccess).TotalSeconds : null;
        var submitSpan = Stopwatch.GetElapsedTime(firstSubmit, lastSubmit).TotalSeconds;
        var f = new Dictionary<string, double?>
        {
            ["n"] = count,
            ["clients"] = clients,
            ["ok"] = ok,
            ["failed"] = failed,
            ["timeouts"] = timeouts,
            ["http_errors"] = errors,
            ["wrong"] = wrong,
            ["submit_phase_s"] = Math.Round(submitSpan, 3),
            ["submits_per_s"] = Math.Round(count / submitSpan, 1),
            ["post_p50_ms"] = P(post, 50),
            ["post_p99_ms"] = P(post, 99),
            ["span_s"] = span is null ? null : Math.Round(span.Value, 3),
            ["tasks_per_s"] = span is null ? null : Math.Round(ok / span.Value, 1),
            ["http_requests"] = requests,
            ["peak_rss_mb"] = system.Pids.Count > 0 ? peakRss : null,
            ["peak_pss_mb"] = system.Pids.Count > 0 ? peakPss : null,
            ["cpu_ms_per_task"] = cpu0 is { } c0 && cpu1 is { } c1 && ok > 0 ? Math.Round(1000 * (c1 - c0) / ok, 2) : null,
            ["client_cpu_ms_per_task"] = ok > 0 ? Math.Round(clientCpu.TotalMilliseconds / ok, 2) : null,
        };
        var line = $"{label} n={count} clients={clients} ok={ok} fail={failed} timeout={timeouts} http_err={errors} wrong={wrong} | " +
                   $"submits {f["submit_phase_s"]} s ({f["submits_per_s"]}/s, POST p50={f["post_p50_ms"]} p99={f["post_p99_ms"]} ms) | " +
                   $"first submit→last SUCCESS {Show(f["span_s"])} s = {Show(f["tasks_per_s"])} tasks/s | requests={requests} " +
                   $"peak RSS={Show(f["peak_rss_mb"])} MB | server CPU {Show(f["cpu_ms_per_task"])} ms/task | client CPU {Show(f["client_cpu_ms_per_task"])} ms/task";
        return new WorkloadResult(label.Split(' ')[0], line, f);
    }

    /// <summary>c and d: one porttest; its duration seen by the client and the task's own <c>duration_sec</c>.</summary>
    public async Task<WorkloadResult> SinglePorttestAsync(string name, PortPlan plan, double timeout, CancellationToken cancellationToken)
    {
        var body = WireClient.Body("porttest.run", new JsonArray(plan.Data()), new JsonObject { ["timeout"] = timeout });
        var (outcome, e2e) = await SubmitAndWaitAsync(body, cancellationToken);
        var result = outcome.Body["result"];
        var duration = result?["summary"]?["duration_sec"]?.GetValue<double>();
        int? wrong = outcome.State == "SUCCESS" ? plan.CountWrong(result) : null;
        var f = new Dictionary<string, double?>
        {
            ["ok"] = outcome.State == "SUCCESS" ? 1 : 0,
            ["e2e_s"] = Math.Round(e2e.TotalSeconds, 3),
            ["duration_sec"] = duration,
            ["wrong"] = wrong,
            ["x_timeout"] = Math.Round(e2e.TotalSeconds / timeout, 2),
        };
        var line = $"{name,-3} {(name.StartsWith('c') ? "fan-out" : "hang   ")}  {plan.Description}, timeout {timeout:0.#}: state={outcome.State} " +
                   $"submit→SUCCESS {e2e.TotalSeconds:0.000} s, task duration_sec={Show(duration)}, wrong={Show(wrong)}" +
                   (name.StartsWith('d') ? $" | {e2e.TotalSeconds / timeout:0.00} × timeout" : "");
        return new WorkloadResult(name, line, f);
    }

    /// <summary>dns: one <c>dns.check_records</c> of many names against the harness's loopback DNS server.</summary>
    public async Task<WorkloadResult> DnsAsync(DnsTargets dns, CancellationToken cancellationToken)
    {
        var (outcome, e2e) = await SubmitAndWaitAsync(dns.Body, cancellationToken);
        var result = outcome.Body["result"];
        var duration = result?["summary"]?["duration_sec"]?.GetValue<double>();
        int? wrong = outcome.State == "SUCCESS" ? dns.CountWrong(result) : null;
        var f = new Dictionary<string, double?>
        {
            ["ok"] = outcome.State == "SUCCESS" ? 1 : 0,
            ["e2e_s"] = Math.Round(e2e.TotalSeconds, 3),
            ["duration_sec"] = duration,
            ["wrong"] = wrong,
        };
        var line = $"dns          {dns.Count} names against a loopback DNS server: state={outcome.State} submit→SUCCESS {e2e.TotalSeconds:0.000} s, " +
                   $"task duration_sec={Show(duration)}, wrong={Show(wrong)}";
        return new WorkloadResult("dns", line, f);
    }

    /// <summary>
    /// soak: one warm-up block, then <see cref="BenchSettings.SoakTasks"/> more tasks in five blocks, the resident
    /// memory after each: whatever a finished task leaves behind (Hangfire's job records, caches, the heap)
    /// shows as growth from block to block after the warm-up.
    /// </summary>
    public async Task<WorkloadResult> SoakAsync(RepeatedTask task, CancellationToken cancellationToken)
    {
        const int blocks = 5;
        var perBlock = Math.Max(1, settings.SoakTasks / blocks);
        var rss = new List<double>();
        var results = new List<WorkloadResult>();
        for (var b = 0; b <= blocks; b++)
        {
            results.Add(await ThroughputAsync(task, perBlock, "soak block", cancellationToken));
            await Task.Delay(settings.Pause, cancellationToken);
            rss.Add(Machine.Memory(system.Pids)?.RssMb ?? 0);
        }
        var bad = (int)results.Sum(r => (r["failed"] ?? 0) + (r["timeouts"] ?? 0) + (r["http_errors"] ?? 0) + (r["wrong"] ?? 0));
        // A figure of each block, in block order (the first block is the warm-up), and its median over the warm blocks;
        // a block without the figure counts as `missing` (a block that finished nothing: 0 tasks/s).
        IEnumerable<double?> PerBlock(string key, double? missing) => results.Select(r => r[key] ?? missing);
        double? WarmMedian(string key, double? missing = null) => Median(PerBlock(key, missing).Skip(1).OfType<double>());
        string Blocks(string key, string format, double? missing = null) =>
            string.Join(", ", PerBlock(key, missing).OfType<double>().Select(x => x.ToString(format, CultureInfo.InvariantCulture)));
        var growth = rss[^1] - rss[0];
        var tasks = perBlock * blocks;
        var f = new Dictionary<string, double?>
        {
            ["tasks"] = tasks,
            ["bad"] = bad,
            ["rss_after_warmup_mb"] = rss[0],
            ["rss_end_mb"] = rss[^1],
            ["growth_mb"] = Math.Round(growth, 1),
            ["growth_kb_per_1000_tasks"] = Math.Round(growth * 1024 / (tasks / 1000.0), 1),
            ["tasks_per_s_median"] = WarmMedian("tasks_per_s", missing: 0),
            ["cpu_ms_per_task_median"] = WarmMedian("cpu_ms_per_task"),
            ["post_p99_ms_median"] = WarmMedian("post_p99_ms"),
        };
        var line = $"soak         warm-up block of {perBlock}, then {tasks} tasks in {blocks} blocks ({settings.Clients} clients): bad={bad} | RSS after each block " +
                   $"{string.Join(" → ", rss.Select(x => x.ToString("0.0", CultureInfo.InvariantCulture)))} MB: {growth:+0.0;-0.0} MB over the {tasks} tasks after warm-up " +
                   $"({f["growth_kb_per_1000_tasks"]} KB per 1,000) | tasks/s per block {Blocks("tasks_per_s", "0", missing: 0)}" +
                   $" | server CPU ms/task per block {Blocks("cpu_ms_per_task", "0.00")} | POST p99 ms per block {Blocks("post_p99_ms", "0")}";
        return new WorkloadResult("soak", line, f);
    }

    private async Task<(PollOutcome Outcome, TimeSpan E2e)> SubmitAndWaitAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var client = new WireClient(system.Url, settings.Token);
        await client.GetJsonAsync("/", cancellationToken);
        var t0 = Stopwatch.GetTimestamp();
        var id = await client.SubmitAsync(body, cancellationToken);
        var outcome = await client.WaitAsync(id, settings.Poll, settings.TaskDeadline, cancellationToken);
        return (outcome, Stopwatch.GetElapsedTime(t0, outcome.SeenTimestamp));
    }

    /// <summary>date_submitted → date_done as the server recorded them (ms precision), when it reports them.</summary>
    private static TimeSpan? ServerSideDuration(JsonObject body) =>
        body["date_submitted"]?.GetValue<string>() is { } s && body["date_done"]?.GetValue<string>() is { } d
        && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var submitted)
        && DateTimeOffset.TryParse(d, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var done)
            ? done - submitted
            : null;

    /// <summary>Nearest-rank percentile in ms (the anchor's definition), null for no values.</summary>
    private static double? P(List<TimeSpan> values, double p)
    {
        if (values.Count == 0)
        {
            return null;
        }
        var sorted = values.OrderBy(v => v).ToList();
        var k = Math.Clamp((int)Math.Ceiling(p / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1);
        return Ms(sorted[k]);
    }

    public static double? Median(IEnumerable<double> values)
    {
        var s = values.OrderBy(v => v).ToList();
        return s.Count == 0 ? null : s.Count % 2 == 1 ? s[s.Count / 2] : Math.Round((s[s.Count / 2 - 1] + s[s.Count / 2]) / 2, 3);
    }

    public static string Show(double? v) => v is null ? "n/a" : v.Value.ToString("0.###", CultureInfo.InvariantCulture);
}
