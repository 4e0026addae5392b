using System.Globalization;

namespace RemoteTest.Bench;

/// <summary>What the kernel says about the machine and about a tree of processes: load, memory, CPU time.</summary>
public static class Machine
{
    private static readonly long ClockTicks = 100; // USER_HZ on Linux x86_64 and arm64

    /// <summary>The 1-minute load average: the machine is shared, so every figure carries it.</summary>
    public static double Load1()
    {
        var text = File.ReadAllText("/proc/loadavg");
        return double.Parse(text.Split(' ')[0], CultureInfo.InvariantCulture);
    }

    public static string Describe()
    {
        var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        var memKb = ReadKb("/proc/meminfo", "MemTotal") ?? 0;
        var kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        var os = File.Exists("/etc/debian_version") ? "Debian " + File.ReadAllText("/etc/debian_version").Trim() : "Linux";
        return $"{Environment.ProcessorCount} vCPU ({model}), {memKb / 1024 / 1024} GiB RAM, Linux {kernel}, {os}, .NET {Environment.Version}";
    }

    /// <summary>The given processes and all their descendants (a Celery prefork pool, a gunicorn worker).</summary>
    public static IReadOnlyList<int> ProcessTree(IEnumerable<int> roots)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }
            var parent = ParentOf(pid);
            if (parent is { } p)
            {
                if (!children.TryGetValue(p, out var list))
                {
                    children[p] = list = [];
                }
                list.Add(pid);
            }
        }
        var seen = new List<int>();
        var stack = new Stack<int>(roots.Where(r => Directory.Exists($"/proc/{r}")));
        while (stack.Count > 0 && seen.Count < 10_000)
        {
            var pid = stack.Pop();
            if (seen.Contains(pid))
            {
                continue;
            }
            seen.Add(pid);
            foreach (var c in children.GetValueOrDefault(pid) ?? [])
            {
                stack.Push(c);
            }
        }
        return seen;
    }

    /// <summary>RSS and PSS summed over the process tree, in MB; null when none of the processes exists.</summary>
    public static MemoryFigure? Memory(IReadOnlyCollection<int> roots)
    {
        if (roots.Count == 0)
        {
            return null;
        }
        var pids = ProcessTree(roots);
        if (pids.Count == 0)
        {
            return null;
        }
        long rss = 0, pss = 0;
        var pssKnown = true;
        foreach (var pid in pids)
        {
            rss += ReadKb($"/proc/{pid}/status", "VmRSS") ?? 0;
            if (ReadKb($"/proc/{pid}/smaps_rollup", "Pss") is { } p)
            {
                pss += p;
            }
            else
            {
                pssKnown = false;
            }
        }
        return new MemoryFigure(pids.Count, Math.Round(rss / 1024.0, 1), pssKnown ? Math.Round(pss / 1024.0, 1) : null);
    }

    /// <summary>User + system CPU seconds of the tree, its reaped children included.</summary>
    public static double? CpuSeconds(IReadOnlyCollection<int> roots)
    {
        if (roots.Count == 0)
        {
            return null;
        }
        long ticks = 0;
        foreach (var pid in ProcessTree(roots))
        {
            var fields = StatFields(pid);
            if (fields is null)
            {
                continue;
            }
            // fields[0] is the state (3rd field of stat); utime, stime, cutime, cstime are stat fields 14-17.
            for (var i = 11; i <= 14; i++)
            {
                ticks += long.Parse(fields[i], CultureInfo.InvariantCulture);
            }
        }
        return ticks / (double)ClockTicks;
    }

    private static int? ParentOf(int pid)
    {
        var fields = StatFields(pid);
        return fields is null ? null : int.Parse(fields[1], CultureInfo.InvariantCulture);
    }

    /// <summary>The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses).</summary>
    private static string[]? StatFields(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadKb(string path, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(key + ":", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}

/// <summary>Resident memory of a process tree.</summary>
public sealed record MemoryFigure(int Processes, double RssMb, double? PssMb);

/// <summary>Samples a process tree's memory every quarter second while a workload runs and keeps the peak.</summary>
public sealed class PeakMemorySampler : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public PeakMemorySampler(IReadOnlyCollection<int> roots, TimeSpan bound)
    {
        _loop = Task.Run(async () =>
        {
            var end = DateTime.UtcNow + bound;
            while (!_stop.IsCancellationRequested && DateTime.UtcNow < end)
            {
                if (Machine.Memory(roots) is { } m)
                {
                    PeakRssMb = Math.Max(PeakRssMb, m.RssMb);
                    PeakPssMb = Math.Max(PeakPssMb, m.PssMb ?? 0);
                }
                try
                {
                    await Task.Delay(Interval, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        });
    }

    public double PeakRssMb { get; private set; }
    public double PeakPssMb { get; private set; }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        _stop.Dispose();
    }
}
