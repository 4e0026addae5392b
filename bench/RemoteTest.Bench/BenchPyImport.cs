using System.Text.Json.Nodes;

namespace RemoteTest.Bench;

/// <summary>
/// The figures of the anchor's own client, <c>bench.py</c>, run against the Celery original in the same bench run
/// (bench/run.sh does that), as one more column of the table: the original is measured by the script that
/// produced the anchor, on this machine, minutes before or after RemoteTest.
/// </summary>
public static class BenchPyImport
{
    /// <summary>bench.py's names → the harness's, per workload (the rest are computed below).</summary>
    private static readonly Dictionary<string, (string From, string To)[]> Keys = new()
    {
        ["a"] = [("e2e_p50_ms", "e2e_p50_ms"), ("e2e_p95_ms", "e2e_p95_ms"), ("e2e_p99_ms", "e2e_p99_ms"), ("e2e_max_ms", "e2e_max_ms"),
                 ("submit_p50_ms", "post_p50_ms"), ("submit_p99_ms", "post_p99_ms"), ("polls_per_task", "polls_mean")],
        ["b"] = [("tasks_per_s", "tasks_per_s"), ("submits_per_s", "submits_per_s"), ("post_p50_ms", "post_p50_ms"), ("post_p99_ms", "post_p99_ms"),
                 ("span_s", "span_s"), ("peak_rss_mb", "peak_rss_mb"), ("peak_pss_mb", "peak_pss_mb")],
        ["c1"] = [("e2e_s", "e2e_s"), ("server_duration_s", "duration_sec")],
        ["c2"] = [("e2e_s", "e2e_s"), ("server_duration_s", "duration_sec")],
        ["d1"] = [("e2e_s", "e2e_s"), ("server_duration_s", "duration_sec")],
        ["d2"] = [("e2e_s", "e2e_s"), ("server_duration_s", "duration_sec")],
    };

    private const double HangTimeout = 2;

    public static SystemReport Load(string path, string description)
    {
        var root = JsonNode.Parse(File.ReadAllText(path)) ?? throw new BenchException($"{path}: empty");
        var report = new SystemReport("original", description, isRemoteTest: false)
        {
            RepeatedTask = "porttest.run of 1 closed port (127.0.0.1:1, timeout 1), by bench.py",
            MemoryIdle = Memory(root["memory"]?["idle"]),
            MemoryAfter = Memory(root["memory"]?["after_runs"]),
        };
        foreach (var run in root["runs"]?.AsArray() ?? [])
        {
            var results = new Dictionary<string, WorkloadResult>();
            foreach (var (workload, keys) in Keys)
            {
                if (run?[workload] is not JsonObject w)
                {
                    continue;
                }
                var f = new Dictionary<string, double?>();
                foreach (var (from, to) in keys)
                {
                    f[to] = Number(w[from]);
                }
                foreach (var common in new[] { "load1_before", "load1_after", "server_cpu_s" })
                {
                    f[common] = Number(w[common]);
                }
                f["wrong"] = Number(w["wrong_results"]);
                f["failed"] = Number(w["failed"]);
                f["timeouts"] = Number(w["timeouts"]);
                f["http_errors"] = Number(w["http_errors"]);
                if (workload == "b" && f["server_cpu_s"] is { } cpu && Number(w["ok"]) is { } ok && ok > 0)
                {
                    f["cpu_ms_per_task"] = Math.Round(1000 * cpu / ok, 2);
                }
                if (workload.StartsWith('d') && f["e2e_s"] is { } e2e)
                {
                    f["x_timeout"] = Math.Round(e2e / HangTimeout, 2);
                }
                results[workload] = new WorkloadResult(workload, $"{workload} (bench.py)", f);
            }
            report.Runs.Add(results);
        }
        return report;
    }

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

    private static MemoryFigure? Memory(JsonNode? node) =>
        node is JsonObject m && Number(m["rss_mb"]) is { } rss ? new MemoryFigure((int)(Number(m["processes"]) ?? 0), rss, Number(m["pss_mb"])) : null;
}
