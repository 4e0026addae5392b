using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace RemoteTest.Bench;

/// <summary>Everything one system produced in one bench run.</summary>
public sealed class SystemReport(string name, string description, bool isRemoteTest)
{
    public SystemReport(SystemUnderTest system)
        : this(system.Name, system.Description, system.IsRemoteTest)
    {
    }

    public string Name { get; } = name;
    public string Description { get; } = description;
    public bool IsRemoteTest { get; } = isRemoteTest;
    public string? RepeatedTask { get; set; }
    public MemoryFigure? MemoryIdle { get; set; }
    public double? IdleCpuPercent { get; set; }
    public MemoryFigure? MemoryAfter { get; set; }
    public List<Dictionary<string, WorkloadResult>> Runs { get; } = [];
    public WorkloadResult? Soak { get; set; }
    public WorkloadResult? HttpFloor { get; set; }

    /// <summary>The median over the runs of one figure (null when no run has it).</summary>
    public double? Median(string workload, string key) =>
        Workloads.Median(Runs.Select(r => r.GetValueOrDefault(workload)?[key]).OfType<double>());
}

/// <summary>A whole bench run: when, where, and every system's figures; prints the table of issue 8.</summary>
public sealed class BenchReport
{
    public string DateUtc { get; } = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
    public string Machine { get; } = Bench.Machine.Describe();
    public string? TargetChecks { get; set; }
    public List<SystemReport> Systems { get; } = [];
    public List<Dictionary<string, WorkloadResult>> Nmap { get; } = [];
    public Dictionary<string, WorkloadResult>? Floors { get; set; }
    public string? CommandLine { get; set; }

    private enum Better { Lower, Higher }

    /// <summary>
    /// One row: a figure, where it comes from, the original's anchor value (RESULTS.md medians) and the goal, judged
    /// from a system's value and the original's in the same run (null when it was not measured).
    /// </summary>
    private sealed record Row(string Label, string Workload, string Key, double? Anchor, Better Better, Func<SystemReport, double?, double?, string>? Goal = null);

    private static string Goal(double? v, bool met, string text) => v is null ? text : $"{text} {(met ? "✅" : "❌")}";

    /// <summary>Anchor values: the medians of the original's three runs in ../shared/anchors/seed-celery/RESULTS.md.</summary>
    private static readonly Row[] Rows =
    [
        new("a submit→SUCCESS p50 ms (sequential, 5 ms polling)", "a", "e2e_p50_ms", 9.43, Better.Lower,
            (s, v, _) => s.IsRemoteTest && s.Name == "embedded" ? Goal(v, v <= 5, "≤ 5") : ""),
        new("a submit→SUCCESS p95 ms", "a", "e2e_p95_ms", 11.43, Better.Lower),
        new("a submit→SUCCESS p99 ms", "a", "e2e_p99_ms", 11.88, Better.Lower),
        new("a POST p50 ms (sequential)", "a", "post_p50_ms", 1.56, Better.Lower),
        new("a POST p99 ms (sequential)", "a", "post_p99_ms", 3.03, Better.Lower),
        // Goals of issue 16 (engine v2) from here on where it set them; issue 8's otherwise.
        new("a server-side submitted→done p50 ms", "a", "server_p50_ms", null, Better.Lower,
            (s, v, _) => s.IsRemoteTest && s.Name != "embedded" ? Goal(v, v <= 5, "≤ 5") : ""),
        new("a GET polls per task (mean; the 1st right after the POST, then every 5 ms)", "a", "polls_mean", 2.0, Better.Lower),
        new("b throughput tasks/s (2,000 tasks, 16 clients)", "b", "tasks_per_s", 11.6, Better.Higher,
            (s, v, _) => !s.IsRemoteTest ? "" : s.Name == "embedded" ? Goal(v, v >= 2000, "≥ 2,000") : Goal(v, v >= 1000, "≥ 1,000")),
        new("b submits/s (16 clients)", "b", "submits_per_s", 1223, Better.Higher),
        new("b POST p50 ms (16 clients)", "b", "post_p50_ms", 12.7, Better.Lower),
        new("b POST p99 ms (16 clients)", "b", "post_p99_ms", 20.3, Better.Lower,
            (s, v, o) => s.IsRemoteTest ? Goal(v, v <= (o ?? 20.3), $"≤ the original's ({Num(o ?? 20.3)})") : ""),
        new("b server CPU ms per task", "b", "cpu_ms_per_task", 25.6, Better.Lower,
            (s, v, _) => s.IsRemoteTest && s.Name == "embedded" ? Goal(v, v <= 0.8, "≤ 0.8") : ""),
        new("b peak RSS MB", "b", "peak_rss_mb", 279.1, Better.Lower),
        new("c1 1 host × 1,000 ports: submit→SUCCESS s", "c1", "e2e_s", 0.043, Better.Lower),
        new("c1 task duration_sec", "c1", "duration_sec", 0.03, Better.Lower),
        new("c2 50 hosts × 4 ports: submit→SUCCESS s", "c2", "e2e_s", 0.033, Better.Lower),
        new("d1 1 host × 20 hanging, timeout 2: submit→SUCCESS s", "d1", "e2e_s", 40.04, Better.Lower),
        new("d1 × timeout", "d1", "x_timeout", 20.02, Better.Lower,
            (s, v, _) => s.IsRemoteTest ? Goal(v, v <= 1.2, "≤ 1.2") : ""),
        new("d2 20 hosts × 1 hanging, timeout 2: submit→SUCCESS s", "d2", "e2e_s", 4.013, Better.Lower),
        new("dns 1,000 names: submit→SUCCESS s", "dns", "e2e_s", null, Better.Lower),
        new("dns task duration_sec", "dns", "duration_sec", null, Better.Lower),
    ];

    public string Table()
    {
        var systems = Systems;
        var original = systems.FirstOrDefault(s => !s.IsRemoteTest);
        var ours = systems.Where(s => s.IsRemoteTest).ToList();
        var head = new List<string> { "figure" };
        head.AddRange(systems.Select(s => s.IsRemoteTest ? $"RemoteTest {s.Name}" : $"{s.Name} (this run)"));
        head.Add("original (anchor)");
        if (original is not null)
        {
            head.AddRange(ours.Select(s => $"{s.Name} vs original"));
        }
        head.AddRange(ours.Select(s => $"{s.Name} vs anchor"));
        head.Add("goal");

        var rows = new List<List<string>>();
        foreach (var row in Rows)
        {
            var values = systems.Select(s => s.Median(row.Workload, row.Key)).ToList();
            if (values.All(v => v is null))
            {
                continue;
            }
            var cells = new List<string> { row.Label };
            cells.AddRange(values.Select(v => Num(v)));
            cells.Add(Num(row.Anchor));
            if (original is not null)
            {
                var o = original.Median(row.Workload, row.Key);
                cells.AddRange(ours.Select(s => Ratio(s.Median(row.Workload, row.Key), o, row.Better)));
            }
            cells.AddRange(ours.Select(s => Ratio(s.Median(row.Workload, row.Key), row.Anchor, row.Better)));
            var originalValue = original?.Median(row.Workload, row.Key);
            cells.Add(string.Join(" · ", ours
                .Select(s => (s.Name, Goal: row.Goal?.Invoke(s, s.Median(row.Workload, row.Key), originalValue) ?? ""))
                .Where(g => g.Goal.Length > 0)
                .Select(g => ours.Count > 1 ? $"{g.Name} {g.Goal}" : g.Goal)
                .Distinct()));
            rows.Add(cells);
        }

        // c1 against nmap of the same 1,000 ports, run in the same bench run: the goal is within 2×.
        var nmapSame = Workloads.Median(Nmap.Select(n => n.GetValueOrDefault("nmap")?["wall_s"]).OfType<double>());
        var nmapLiteral = Workloads.Median(Nmap.Select(n => n.GetValueOrDefault("nmap-1-1000")?["wall_s"]).OfType<double>());
        if (nmapSame is not null)
        {
            rows.Add(Extra("nmap -sT of the same 1,000 ports: s (wall)", systems, ours, original, _ => nmapSame, null, compare: false));
            rows.Add(Extra("c1 submit→SUCCESS ÷ nmap (same ports)", systems, ours, original,
                s => s.Median("c1", "e2e_s") is { } c ? Math.Round(c / nmapSame.Value, 2) : null,
                s => s.IsRemoteTest && s.Median("c1", "e2e_s") is { } c ? Goal(c, c / nmapSame.Value <= 2, "≤ 2") : "", compare: false));
        }
        if (nmapLiteral is not null)
        {
            rows.Add(Extra("nmap -sT -p1-1000 127.0.0.1: s (wall)", systems, ours, original, _ => nmapLiteral, null, compare: false));
        }
        rows.Add(Extra("e idle RSS MB (whole system)", systems, ours, original, s => s.MemoryIdle?.RssMb,
            s => s.IsRemoteTest && s.MemoryIdle is { Processes: > 0 } m
                ? $"{(ours.Count > 1 ? s.Name + " " : "")}{Goal(m.RssMb, m.RssMb / m.Processes <= 100, "≤ 100 per process")}" : "", 261.1));
        rows.Add(Extra("e idle PSS MB (whole system)", systems, ours, original, s => s.MemoryIdle?.PssMb, null, 145.3));
        rows.Add(Extra("e idle CPU % of one core (RemoteTest processes, before any task)", systems, ours, original, s => s.IdleCpuPercent, null, compare: false));
        rows.Add(Extra("e RSS MB after all workloads", systems, ours, original, s => s.MemoryAfter?.RssMb, null, 287.2));
        if (ours.Any(s => s.Soak is not null))
        {
            rows.Add(Extra("soak: RSS MB after a warm-up block of 2,000", systems, ours, original, s => s.Soak?["rss_after_warmup_mb"], null, compare: false));
            rows.Add(Extra("soak: RSS growth MB over the next 10,000 tasks", systems, ours, original, s => s.Soak?["growth_mb"],
                s => s.Soak is null ? "" : Goal(s.Soak["growth_mb"], s.Soak["growth_mb"] <= 10, "≈ 0 (≤ 10)"), compare: false));
            // The same workload as b on a warm process (b runs on one that has served only a's 205 tasks: JIT).
            rows.Add(Extra("soak: tasks/s (median of 5 blocks of 2,000, warm process)", systems, ours, original, s => s.Soak?["tasks_per_s_median"],
                s => s.Soak is null ? "" : Goal(s.Soak["tasks_per_s_median"], s.Soak["tasks_per_s_median"] >= 2000, "≥ 2,000"), compare: false));
            rows.Add(Extra("soak: server CPU ms per task (median of the blocks)", systems, ours, original, s => s.Soak?["cpu_ms_per_task_median"],
                s => s.Soak is null ? "" : Goal(s.Soak["cpu_ms_per_task_median"], s.Soak["cpu_ms_per_task_median"] <= 0.8, "≤ 0.8"), compare: false));
            rows.Add(Extra("soak: POST p99 ms (median of the blocks)", systems, ours, original, s => s.Soak?["post_p99_ms_median"], null, compare: false));
        }
        if (systems.Any(s => s.HttpFloor is not null))
        {
            rows.Add(Extra("floor: GET / requests/s (16 clients)", systems, ours, original, s => s.HttpFloor?["per_s"], null, compare: false));
            rows.Add(Extra("floor: server CPU ms per GET /", systems, ours, original, s => s.HttpFloor?["cpu_ms_per_item"], null, compare: false));
        }
        rows.Add(Extra("wrong results / failed tasks (all workloads)", systems, ours, original,
            s => s.Runs.Sum(r => r.Values.Sum(w => (w["wrong"] ?? 0) + (w["failed"] ?? 0) + (w["timeouts"] ?? 0) + (w["http_errors"] ?? 0))), null, compare: false));
        rows.Add(Extra("load1 before a / before b (median)", systems, ours, original, null, null,
            text: s => $"{Num(s.Median("a", "load1_before"))} / {Num(s.Median("b", "load1_before"))}", compare: false));

        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", head) + " |");
        sb.AppendLine("|" + string.Join("|", head.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
        foreach (var r in rows)
        {
            sb.AppendLine("| " + string.Join(" | ", r) + " |");
        }
        return sb.ToString();

        List<string> Extra(string label, List<SystemReport> all, List<SystemReport> mine, SystemReport? orig,
            Func<SystemReport, double?>? value, Func<SystemReport, string>? goal, double? anchor = null, Func<SystemReport, string>? text = null, bool compare = true)
        {
            var cells = new List<string> { label };
            cells.AddRange(all.Select(s => text?.Invoke(s) ?? Num(value?.Invoke(s))));
            cells.Add(Num(anchor));
            if (orig is not null)
            {
                cells.AddRange(mine.Select(s => value is null || !compare ? "" : Ratio(value(s), value(orig), Better.Lower)));
            }
            cells.AddRange(mine.Select(s => value is null || !compare ? "" : Ratio(value(s), anchor, Better.Lower)));
            cells.Add(goal is null ? "" : string.Join(" · ", mine.Select(goal).Where(g => g.Length > 0).Distinct()));
            return cells;
        }
    }

    /// <summary>How many times better ours is: "×12.3" (above 1 is better, below 1 worse).</summary>
    private static string Ratio(double? ours, double? theirs, Better better)
    {
        if (ours is not { } a || theirs is not { } b || a <= 0 || b <= 0)
        {
            return "";
        }
        var r = better == Better.Lower ? b / a : a / b;
        return "×" + (r >= 100 ? r.ToString("0", CultureInfo.InvariantCulture) : r >= 10 ? r.ToString("0.#", CultureInfo.InvariantCulture) : r.ToString("0.##", CultureInfo.InvariantCulture));
    }

    private static string Num(double? v) => v is null ? "–" : v.Value.ToString(Math.Abs(v.Value) >= 100 ? "#,0.#" : "0.###", CultureInfo.InvariantCulture);

    public string Markdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"Run {DateUtc} on {Machine}.");
        sb.AppendLine();
        foreach (var s in Systems)
        {
            sb.AppendLine($"- **{(s.IsRemoteTest ? "RemoteTest " : "")}{s.Name}**: {s.Description}" + (s.RepeatedTask is null ? "" : $"; workloads a/b repeat {s.RepeatedTask}"));
        }
        if (TargetChecks is not null)
        {
            sb.AppendLine($"- Targets checked before the run: {TargetChecks}");
        }
        sb.AppendLine();
        sb.Append(Table());
        if (Floors is not null)
        {
            sb.AppendLine();
            sb.AppendLine("Floors (the parts alone, in the harness process, same run):");
            sb.AppendLine();
            foreach (var f in Floors.Values)
            {
                sb.AppendLine($"- {f.Line} (load1 {Workloads.Show(f["load1_before"])})");
            }
        }
        return sb.ToString();
    }

    public string Json() => JsonSerializer.Serialize(this, new JsonSerializerOptions
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    });
}
