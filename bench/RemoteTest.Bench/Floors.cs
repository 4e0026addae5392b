using System.Diagnostics;
using System.Threading.Channels;
using RemoteTest.Store;

namespace RemoteTest.Bench;

/// <summary>
/// workload "floors": the parts of the embedded hot path measured alone, in this process, at the same load
/// as the rest of the run — the engine (an in-process channel with async no-op consumers, as the embedded queue), the task store (SQLite: the
/// insert, start, finish and read one task costs) and the HTTP server (GET / of the system under test).
/// Together they say how much of a task's cost is the parts' own floor and what is left for the glue.
/// </summary>
public static class Floors
{
    private static int _done;

    /// <summary>The job of the engine floor: nothing, asynchronously, as TaskRunner.RunAsync is.</summary>
    public static Task NoOpAsync(int n, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _done);
        return Task.CompletedTask;
    }

    /// <summary>Rounds of a floor: the first warms the code up (the JIT's tiers), the cheapest of the rest is the floor.</summary>
    private const int Rounds = 4;

    public static Task<WorkloadResult> EngineAsync(int jobs, int clients, CancellationToken cancellationToken) =>
        Cheapest(() => EngineRoundAsync(jobs, clients, cancellationToken));

    public static Task<WorkloadResult> StoreAsync(string directory, int tasks, int clients, CancellationToken cancellationToken) =>
        Cheapest(() => StoreRoundAsync(directory, tasks, clients, cancellationToken));

    private static async Task<WorkloadResult> Cheapest(Func<Task<WorkloadResult>> round)
    {
        var results = new List<WorkloadResult>();
        for (var i = 0; i < Rounds; i++)
        {
            results.Add(await round());
        }
        var best = results.Skip(1).MinBy(r => r["cpu_ms_per_item"] ?? double.MaxValue)!;
        return best with { Line = best.Line + $" [cheapest of rounds 2–{Rounds}; CPU ms per item by round: {string.Join(", ", results.Select(r => Workloads.Show(r["cpu_ms_per_item"])))}]" };
    }

    private static async Task<WorkloadResult> EngineRoundAsync(int jobs, int clients, CancellationToken cancellationToken)
    {
        // The embedded queue's shape (Engine/InProcessQueue.cs): an unbounded channel, one reader, up to 50
        // runs at once, each started on the pool.
        var queue = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });
        using var slots = new SemaphoreSlim(50);
        _done = 0;
        var reader = Task.Run(async () =>
        {
            while (await queue.Reader.WaitToReadAsync(cancellationToken))
            {
                await slots.WaitAsync(cancellationToken);
                if (!queue.Reader.TryRead(out var n))
                {
                    slots.Release();
                    continue;
                }
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await NoOpAsync(n, CancellationToken.None);
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None);
            }
        }, cancellationToken);
        var (cpu, wall) = await Timed(async () =>
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = clients, CancellationToken = cancellationToken },
                (i, _) =>
                {
                    queue.Writer.TryWrite(i);
                    return ValueTask.CompletedTask;
                });
            var end = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 120;
            while (Volatile.Read(ref _done) < jobs && Stopwatch.GetTimestamp() < end)
            {
                await Task.Delay(2, cancellationToken);
            }
        });
        queue.Writer.TryComplete();
        await reader;
        var f = new Dictionary<string, double?>
        {
            ["jobs"] = jobs,
            ["done"] = _done,
            ["per_s"] = Math.Round(_done / wall, 1),
            ["cpu_ms_per_item"] = Math.Round(1000 * cpu / Math.Max(1, _done), 3),
        };
        return new WorkloadResult("floor-engine", $"floor engine  in-process channel alone, {jobs} no-op tasks from {clients} threads, 50 at once: " +
            $"{f["per_s"]} tasks/s, {f["cpu_ms_per_item"]} ms CPU per task (this process)", f);
    }

    private static async Task<WorkloadResult> StoreRoundAsync(string directory, int tasks, int clients, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        using var store = SqliteTaskStore.OpenFile(Path.Combine(directory, "floor.db"));
        await store.InitializeAsync(cancellationToken);
        var arguments = """{"data":{"127.0.0.1":{"ports":[1]}},"timeout":1}""";
        var result = """{"summary":{"hosts":1,"ports_checked":1,"duration_sec":0.0},"results":{"127.0.0.1":{"ports":{"1":{"open":false,"error":"connection refused"}},"failed_ports":[1]}}}""";
        var (cpu, wall) = await Timed(() => Parallel.ForEachAsync(Enumerable.Range(0, tasks), new ParallelOptions { MaxDegreeOfParallelism = clients, CancellationToken = cancellationToken },
            async (_, ct) =>
            {
                var record = TaskRecord.New("porttest.run", "default", arguments, null, DateTimeOffset.UtcNow);
                await store.InsertAsync(record, ct);
                await store.GetAsync(record.Id, ct);
                await store.TryStartAsync(record.Id, "floor", DateTimeOffset.UtcNow, ct);
                await store.FinishAsync(record.Id, TaskState.Success, result, null, arguments, "floor", DateTimeOffset.UtcNow, "pass", ct);
                await store.GetAsync(record.Id, ct);
            }));
        var f = new Dictionary<string, double?>
        {
            ["tasks"] = tasks,
            ["per_s"] = Math.Round(tasks / wall, 1),
            ["cpu_ms_per_item"] = Math.Round(1000 * cpu / tasks, 3),
        };
        return new WorkloadResult("floor-store", $"floor store   SqliteTaskStore alone (file, WAL), {tasks} × insert+get+start+finish+get from {clients} threads: " +
            $"{f["per_s"]} tasks/s, {f["cpu_ms_per_item"]} ms CPU per task (this process)", f);
    }

    /// <summary>GET / of the system under test from many keep-alive clients: the web server's own floor.</summary>
    public static async Task<WorkloadResult> HttpAsync(SystemUnderTest system, int requests, int clients, CancellationToken cancellationToken)
    {
        var share = requests / clients;
        var cpu0 = Machine.CpuSeconds(system.Pids);
        var t0 = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            using var client = new WireClient(system.Url);
            for (var i = 0; i < share; i++)
            {
                await client.GetJsonAsync("/", cancellationToken);
            }
        }, cancellationToken)));
        var wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var cpu1 = Machine.CpuSeconds(system.Pids);
        var n = share * clients;
        var f = new Dictionary<string, double?>
        {
            ["requests"] = n,
            ["per_s"] = Math.Round(n / wall, 1),
            ["cpu_ms_per_item"] = cpu0 is { } a && cpu1 is { } b ? Math.Round(1000 * (b - a) / n, 3) : null,
        };
        return new WorkloadResult("floor-http", $"floor http    GET / of {system.Name}, {n} requests from {clients} keep-alive clients: {f["per_s"]} requests/s, " +
            $"{Workloads.Show(f["cpu_ms_per_item"])} ms server CPU per request", f);
    }

    private static async Task<(double CpuSeconds, double WallSeconds)> Timed(Func<Task> run)
    {
        var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        var t0 = Stopwatch.GetTimestamp();
        await run();
        var wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        process.Refresh();
        return ((process.TotalProcessorTime - cpu0).TotalSeconds, wall);
    }
}
