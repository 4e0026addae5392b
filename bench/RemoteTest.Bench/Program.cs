using System.Diagnostics;
using System.Text.Json.Nodes;
using RemoteTest.Bench;

// The harness of issue 8: starts loopback targets and RemoteTest, runs the workloads against every system
// given (RemoteTest set-ups, the Celery original, any other server speaking the wire contract), times nmap
// in the same run, and prints one line per workload and the table of figures, ratios and goals.
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchSettings.Usage);
    return 0;
}

BenchSettings settings;
try
{
    settings = BenchSettings.Parse(args);
}
catch (Exception ex) when (ex is BenchException or FormatException or UriFormatException)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
try
{
    return await BenchRun.RunAsync(settings, args, stop.Token);
}
catch (BenchException ex)
{
    Console.Error.WriteLine($"bench: {ex.Message}");
    return 1;
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("bench: interrupted; the systems it started are stopped");
    return 130;
}

namespace RemoteTest.Bench
{
    internal static class BenchRun
    {
        public static async Task<int> RunAsync(BenchSettings settings, string[] args, CancellationToken cancellationToken)
        {
            var work = settings.WorkDirectory ?? Directory.CreateTempSubdirectory("remotetest-bench-").FullName;
            Directory.CreateDirectory(work);
            var report = new BenchReport { CommandLine = string.Join(' ', args.Select(a => a.Contains("Password", StringComparison.OrdinalIgnoreCase) ? "<secret>" : a)) };
            Say($"# {report.DateUtc} · {report.Machine} · load1 {Machine.Load1()} · work directory {work}");

            await using var targets = await LoopbackTargets.StartAsync(settings.PortBase, cancellationToken);
            await using var dns = DnsTargets.Start(settings.DnsNames);
            report.TargetChecks = targets.Checks;
            Say($"# targets: {targets.Checks}; DNS server with {dns.Count} names");

            // nmap first, once per run: the reference of workload c1, timed on this machine in this bench run.
            if (settings.Has("nmap") && settings.Has("c"))
            {
                for (var run = 1; run <= settings.Runs; run++)
                {
                    var nmap = new Dictionary<string, WorkloadResult>
                    {
                        ["nmap"] = await NmapTiming.RunAsync("nmap", targets.ThousandPortRange, 10, cancellationToken),
                        ["nmap-1-1000"] = await NmapTiming.RunAsync("nmap-1-1000", "1-1000", -1, cancellationToken),
                    };
                    foreach (var n in nmap.Values)
                    {
                        Say(n.Line + $" | load1 {Machine.Load1()}");
                    }
                    report.Nmap.Add(nmap);
                }
            }

            // One system at a time, started, measured and stopped: no idle set-up shares the CPU with the measured one.
            foreach (var start in SystemStarters(settings, work))
            {
                await using var system = await start(cancellationToken);
                if (system is null)
                {
                    continue;
                }
                var r = new SystemReport(system);
                report.Systems.Add(r);
                await MeasureAsync(system, r, settings, targets, dns, cancellationToken);
            }
            if (report.Systems.Count == 0 && settings.OriginalBenchPy is null)
            {
                throw new BenchException("no system to measure (--systems, --original, --url)");
            }

            if (settings.Has("floors"))
            {
                Say("## floors: the parts of the embedded hot path alone");
                report.Floors = new Dictionary<string, WorkloadResult>
                {
                    ["floor-engine"] = await Measured(null, () => Floors.EngineAsync(settings.ThroughputTasks, settings.Clients, cancellationToken)),
                    ["floor-store"] = await Measured(null, () => Floors.StoreAsync(Path.Combine(work, "floor-store"), settings.ThroughputTasks, settings.Clients, cancellationToken)),
                };
            }

            if (settings.OriginalBenchPy is { } benchPy)
            {
                report.Systems.Add(BenchPyImport.Load(benchPy,
                    "the Celery original as written (gunicorn 1 sync worker + Celery 5 prefork 2 + Redis), measured by the anchor's bench.py in this run"));
            }
            var markdown = report.Markdown();
            Console.WriteLine();
            Console.WriteLine(markdown);
            if (settings.MarkdownPath is not null)
            {
                await File.WriteAllTextAsync(settings.MarkdownPath, markdown, CancellationToken.None);
            }
            if (settings.JsonPath is not null)
            {
                await File.WriteAllTextAsync(settings.JsonPath, report.Json(), CancellationToken.None);
            }
            return 0;
        }

        /// <summary>Every workload on one system: idle memory first, then the runs, the soak, the HTTP floor, memory after.</summary>
        private static async Task MeasureAsync(SystemUnderTest system, SystemReport r, BenchSettings settings, LoopbackTargets targets,
            DnsTargets dns, CancellationToken cancellationToken)
        {
            var repeated = await ChooseRepeatedTaskAsync(system, dns, cancellationToken);
            r.RepeatedTask = repeated.Description;
            Say($"## {system.Name}: {system.Description}");

            // e (idle): before any task has run on this system; with the CPU it burns doing nothing (polling engines).
            var idleCpu0 = Machine.CpuSeconds(system.Pids);
            var idleStart = Stopwatch.GetTimestamp();
            await Task.Delay(settings.Pause + TimeSpan.FromSeconds(3), cancellationToken);
            if (Machine.CpuSeconds(system.Pids) is { } idleCpu1 && idleCpu0 is { } c0)
            {
                r.IdleCpuPercent = Math.Round(100 * (idleCpu1 - c0) / Stopwatch.GetElapsedTime(idleStart).TotalSeconds, 1);
            }
            if (settings.Has("mem"))
            {
                r.MemoryIdle = Machine.Memory(system.Pids);
                Say($"e memory     {system.Name} idle: {Describe(r.MemoryIdle)}; idle CPU {Workloads.Show(r.IdleCpuPercent)} % of one core");
            }
            for (var run = 1; run <= settings.Runs; run++)
            {
                Say($"# {system.Name} run {run}/{settings.Runs}");
                r.Runs.Add(await RunWorkloadsAsync(system, settings, targets, dns, repeated, cancellationToken));
            }
            // The soak is the all-in-one process's goal (no growth after 10,000 tasks); scaled out it would take many minutes.
            if (settings.Has("soak") && system.IsRemoteTest && system.Name != "postgres")
            {
                Say($"## {system.Name}: soak");
                r.Soak = await Measured(system, () => new Workloads(system, settings).SoakAsync(repeated, cancellationToken));
            }
            if (settings.Has("floors"))
            {
                r.HttpFloor = await Measured(system, () => Floors.HttpAsync(system, settings.ThroughputTasks, settings.Clients, cancellationToken));
            }
            if (settings.Has("mem"))
            {
                await Task.Delay(settings.Pause, cancellationToken);
                r.MemoryAfter = Machine.Memory(system.Pids);
                Say($"e memory     {system.Name} after all workloads: {Describe(r.MemoryAfter)}");
            }
        }

        /// <summary>How to start each system to measure, in order; a starter answers null for a set-up that did not start.</summary>
        private static IEnumerable<Func<CancellationToken, Task<SystemUnderTest?>>> SystemStarters(BenchSettings settings, string work)
        {
            var dll = settings.RemoteTestDll ?? FindServiceDll();
            foreach (var kind in settings.Systems)
            {
                yield return async cancellationToken =>
                {
                    var data = Path.Combine(work, $"data-{kind}");
                    // The per-client abuse limits are off: the bench is one client address sending thousands of
                    // tasks on purpose (the original has no such limits); everything else is the default.
                    var common = new Dictionary<string, string>
                    {
                        ["RemoteTest:DataDirectory"] = data,
                        ["RemoteTest:Limits:RateLimit:PermitLimit"] = "0",
                        ["RemoteTest:Limits:MaxQueuedTasksPerToken"] = "100000",
                    };
                    foreach (var (k, v) in settings.ServerSettings)
                    {
                        common[k] = v;
                    }
                    IReadOnlyList<(string, IReadOnlyDictionary<string, string>)> nodes = kind switch
                    {
                        "embedded" => [("all", new Dictionary<string, string>(common) { ["RemoteTest:Storage:Kind"] = "embedded" })],
                        "postgres" => await ScaledOutAsync(kind, settings, common, cancellationToken),
                        _ => throw new BenchException($"unknown system '{kind}' (embedded, postgres)"),
                    };
                    var description = kind switch
                    {
                        "embedded" => "one process (API + worker), SQLite task store + in-process queue, default settings but the per-client rate and queue limits",
                        _ => "1 API + 2 worker processes, PostgreSQL task store, RabbitMQ queues, loopback targets allowed (memory: the 3 RemoteTest processes, not PostgreSQL or RabbitMQ)",
                    };
                    Say($"# starting RemoteTest {kind} ({dll})");
                    if (settings.ServerEnvironment.Count + settings.ServerSettings.Count > 0)
                    {
                        description += "; with " + string.Join(", ", settings.ServerEnvironment.Concat(settings.ServerSettings).Select(kv => $"{kv.Key}={kv.Value}"));
                    }
                    try
                    {
                        return await RemoteTestSystem.StartAsync(kind, description, dll, Path.Combine(work, "logs"), nodes, settings.ServerEnvironment, cancellationToken);
                    }
                    catch (BenchException ex) when (settings.Systems.Count > 1 || settings.OriginalUrl is not null || settings.OriginalBenchPy is not null)
                    {
                        // One set-up that does not start must not cost the figures of the others.
                        Say($"# SKIPPED {kind}: {ex.Message}");
                        return null;
                    }
                };
            }
            if (settings.OriginalUrl is { } original)
            {
                yield return _ => Task.FromResult<SystemUnderTest?>(new ExternalSystem(ExternalSystem.PidsFromDirectory(settings.OriginalPids), isRemoteTest: false)
                {
                    Name = "original",
                    Description = "the Celery original as written: gunicorn (1 sync worker) + Celery 5 prefork (2) + Redis",
                    Url = original,
                });
            }
            if (settings.ExternalUrl is { } external)
            {
                yield return _ => Task.FromResult<SystemUnderTest?>(new ExternalSystem(settings.ExternalPids, isRemoteTest: true) { Name = "external", Description = external.ToString(), Url = external });
            }
        }

        private static async Task<IReadOnlyList<(string, IReadOnlyDictionary<string, string>)>> ScaledOutAsync(string kind, BenchSettings settings,
            Dictionary<string, string> common, CancellationToken cancellationToken)
        {
            if (settings.Postgres is null || settings.RabbitMq is null)
            {
                throw new BenchException($"system '{kind}' needs --postgres and --rabbitmq");
            }
            // A fresh database and queue prefix per set-up and per bench run: neither sees the other's tasks or messages.
            var database = await FreshDatabaseAsync(settings.Postgres, $"remotetest_bench_{kind}", cancellationToken);
            var prefix = $"rt-bench-{Guid.NewGuid():N}.";
            Dictionary<string, string> Node(string roles, string name)
            {
                var d = new Dictionary<string, string>(common)
                {
                    ["RemoteTest:Roles"] = roles,
                    ["RemoteTest:Storage:Kind"] = "postgres",
                    ["RemoteTest:Storage:ConnectionString"] = database,
                    ["RemoteTest:Queue:RabbitMq"] = settings.RabbitMq,
                    ["RemoteTest:Queue:Prefix"] = prefix,
                    ["RemoteTest:Worker:Name"] = name,
                    // Workers of a shared backend may not reach loopback by default; the bench's targets live there.
                    ["RemoteTest:Targets:Allow:0"] = "127.0.0.0/8",
                };
                return d;
            }
            return [("api", Node("api", "bench-api")), ("worker1", Node("worker", "bench-worker-1")), ("worker2", Node("worker", "bench-worker-2"))];
        }

        /// <summary>Drops and creates <paramref name="name"/> on the server of <paramref name="connectionString"/>; answers its connection string.</summary>
        private static async Task<string> FreshDatabaseAsync(string connectionString, string name, CancellationToken cancellationToken)
        {
            var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            await using (var admin = new Npgsql.NpgsqlConnection(builder.ConnectionString))
            {
                await admin.OpenAsync(cancellationToken);
                foreach (var sql in new[] { $"DROP DATABASE IF EXISTS {name} WITH (FORCE)", $"CREATE DATABASE {name}" })
                {
                    await using var cmd = new Npgsql.NpgsqlCommand(sql, admin);
                    await cmd.ExecuteNonQueryAsync(cancellationToken);
                }
            }
            builder.Database = name;
            return builder.ConnectionString;
        }

        /// <summary>The service built next to this tool: bench/RemoteTest.Bench/bin/… → src/RemoteTest/bin/Release/net10.0.</summary>
        private static string FindServiceDll()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "src", "RemoteTest", "bin", "Release", "net10.0", "RemoteTest.dll");
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
            throw new BenchException("RemoteTest.dll not found: build with `dotnet build -c Release` or pass --remotetest-dll");
        }

        /// <summary>
        /// Workloads a and b repeat the anchor's task — porttest.run of one closed port — where the server has it;
        /// a server without it repeats a one-name dns.check_records against the harness's DNS server instead.
        /// </summary>
        private static async Task<RepeatedTask> ChooseRepeatedTaskAsync(SystemUnderTest system, DnsTargets dns, CancellationToken cancellationToken)
        {
            using var client = new WireClient(system.Url);
            var tasks = await client.GetJsonAsync("/tasks", cancellationToken);
            var names = tasks?["task_names"]?.AsArray().Select(n => n?.GetValue<string>()).ToList() ?? [];
            if (names.Contains("porttest.run"))
            {
                var plan = new PortPlan("closed port", new Dictionary<string, int[]> { ["127.0.0.1"] = [1] }, new Dictionary<(string, int), bool> { [("127.0.0.1", 1)] = false });
                return new RepeatedTask("porttest.run of 1 closed port (127.0.0.1:1, timeout 1)",
                    WireClient.Body("porttest.run", new JsonArray(plan.Data()), new JsonObject { ["timeout"] = 1 }), plan.CountWrong);
            }
            if (!system.IsRemoteTest)
            {
                throw new BenchException($"{system.Name} has no porttest.run");
            }
            return dns.OneName;
        }

        private static async Task<Dictionary<string, WorkloadResult>> RunWorkloadsAsync(SystemUnderTest system, BenchSettings settings,
            LoopbackTargets targets, DnsTargets dns, RepeatedTask repeated, CancellationToken cancellationToken)
        {
            var w = new Workloads(system, settings);
            var hasPorttest = repeated.Description.StartsWith("porttest", StringComparison.Ordinal);
            var steps = new List<(string Name, Func<Task<WorkloadResult>> Run)>();
            if (settings.Has("a"))
            {
                steps.Add(("a", () => w.LatencyAsync(repeated, cancellationToken)));
            }
            if (settings.Has("b"))
            {
                steps.Add(("b", () => w.ThroughputAsync(repeated, settings.ThroughputTasks, "b throughput", cancellationToken)));
            }
            if (settings.Has("c") && hasPorttest)
            {
                steps.Add(("c1", () => w.SinglePorttestAsync("c1", targets.OneHostThousandPorts, 2, cancellationToken)));
                steps.Add(("c2", () => w.SinglePorttestAsync("c2", targets.FiftyHostsFourPorts, 2, cancellationToken)));
            }
            if (settings.Has("d") && hasPorttest)
            {
                steps.Add(("d1", () => w.SinglePorttestAsync("d1", targets.OneHostTwentyHanging, 2, cancellationToken)));
                steps.Add(("d2", () => w.SinglePorttestAsync("d2", targets.TwentyHostsOneHanging, 2, cancellationToken)));
            }
            // The original's dns.check_records asks only the system's resolver, which is not on loopback.
            if (settings.Has("dns") && system.IsRemoteTest)
            {
                steps.Add(("dns", () => w.DnsAsync(dns, cancellationToken)));
            }
            var results = new Dictionary<string, WorkloadResult>();
            foreach (var (name, run) in steps)
            {
                results[name] = await Measured(system, run);
                await Task.Delay(settings.Pause, cancellationToken);
            }
            return results;
        }

        /// <summary>Runs one workload with the load average and the system's CPU seconds around it; a crash is a figure too.</summary>
        private static async Task<WorkloadResult> Measured(SystemUnderTest? system, Func<Task<WorkloadResult>> run)
        {
            var load = Machine.Load1();
            var pids = system?.Pids ?? [];
            var cpu0 = Machine.CpuSeconds(pids);
            var t0 = Stopwatch.GetTimestamp();
            WorkloadResult result;
            try
            {
                result = await run();
            }
            catch (Exception ex) when (ex is BenchException or HttpRequestException or TimeoutException or TaskCanceledException)
            {
                result = new WorkloadResult("error", $"ERROR {ex.GetType().Name}: {ex.Message}", new() { ["failed"] = 1 });
            }
            var cpu1 = Machine.CpuSeconds(pids);
            var after = Machine.Load1();
            result.Figures["load1_before"] = load;
            result.Figures["load1_after"] = after;
            result.Figures["wall_s"] = Math.Round(Stopwatch.GetElapsedTime(t0).TotalSeconds, 3);
            if (cpu0 is { } c0 && cpu1 is { } c1)
            {
                result.Figures["server_cpu_s"] = Math.Round(c1 - c0, 2);
            }
            Say($"{result.Line} | server CPU {Workloads.Show(result["server_cpu_s"])} s | load1 {load}→{after}");
            return result;
        }

        private static string Describe(MemoryFigure? m) =>
            m is null ? "n/a (no process ids)" : $"{m.Processes} processes, RSS {m.RssMb} MB, PSS {Workloads.Show(m.PssMb)} MB";

        private static void Say(string line)
        {
            Console.WriteLine(line);
            Console.Out.Flush();
        }
    }
}
