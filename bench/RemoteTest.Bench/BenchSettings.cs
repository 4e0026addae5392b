using System.Globalization;

namespace RemoteTest.Bench;

/// <summary>The harness's command line. Defaults are the sizes of issue 8 and of the anchor's runs: keep them when comparing.</summary>
public sealed class BenchSettings
{
    public const string Usage = """
        RemoteTest.Bench — workloads a–e of issue 8 against RemoteTest (started here) and, optionally, the Celery original.

          --systems LIST        RemoteTest set-ups the harness starts: embedded (default), postgres (PostgreSQL + RabbitMQ); comma list, or none
          --remotetest-dll P    the built service (default: src/RemoteTest/bin/Release/net10.0/RemoteTest.dll above this tool)
          --server-env K=V      an environment variable for the RemoteTest processes only (repeatable; e.g. DOTNET_gcServer=0)
          --server-arg K=V      a configuration setting for them, as --K=V (repeatable; e.g. RemoteTest:Worker:Concurrency=20)
          --postgres CS         Npgsql connection string for the postgres set-up
          --rabbitmq URI        RabbitMQ AMQP URI for the postgres set-up
          --original URL        also measure the original at URL (started by the anchor's setup_and_start.sh)
          --original-pids DIR   its pid files (WORK/pids), for memory and CPU
          --original-benchpy F  the original's figures from the anchor's bench.py --json F, run in this bench run (bench/run.sh)
          --url URL --pid N     also measure any other server (label "external"; --pid may repeat)
          --runs N              repeat workloads a–d and dns N times (default 1); the table shows the median
          --only LIST           a,b,c,d,dns,soak,mem,nmap,floors (default: all)
          --lat-n N --warmup N --poll-ms MS          workload a (200, 5, 5)
          --tp-n N --tp-clients N --tp-poll-ms MS    workload b (2000, 16, 50)
          --soak-n N            tasks of the soak after the runs (10000)
          --dns-names N         names of workload dns (1000)
          --port-base N         listeners use N … N+2100 on 127.0.0.1–50 (21000)
          --task-deadline S     give up on one task after S seconds (300)
          --pause S             quiet seconds between workloads (2)
          --work DIR            logs and data directories (default: a new directory under /tmp)
          --json FILE           every figure as JSON
          --markdown FILE       the table as Markdown (for bench/README.md)
        """;

    public List<string> Systems { get; } = ["embedded"];
    public string? RemoteTestDll { get; set; }
    public Dictionary<string, string> ServerEnvironment { get; } = [];
    public Dictionary<string, string> ServerSettings { get; } = [];
    public string? Postgres { get; set; }
    public string? RabbitMq { get; set; }
    public Uri? OriginalUrl { get; set; }
    public string? OriginalPids { get; set; }
    public string? OriginalBenchPy { get; set; }
    public Uri? ExternalUrl { get; set; }
    public List<int> ExternalPids { get; } = [];
    public string? Token { get; set; }
    public int Runs { get; set; } = 1;
    public HashSet<string> Only { get; } = ["a", "b", "c", "d", "dns", "soak", "mem", "nmap", "floors"];
    public int LatencyTasks { get; set; } = 200;
    public int Warmup { get; set; } = 5;
    public TimeSpan Poll { get; set; } = TimeSpan.FromMilliseconds(5);
    public int ThroughputTasks { get; set; } = 2000;
    public int Clients { get; set; } = 16;
    public TimeSpan ThroughputPoll { get; set; } = TimeSpan.FromMilliseconds(50);
    public int SoakTasks { get; set; } = 10_000;
    public int DnsNames { get; set; } = 1000;
    public int PortBase { get; set; } = 21000;
    public TimeSpan TaskDeadline { get; set; } = TimeSpan.FromSeconds(300);
    public TimeSpan Pause { get; set; } = TimeSpan.FromSeconds(2);
    public string? WorkDirectory { get; set; }
    public string? JsonPath { get; set; }
    public string? MarkdownPath { get; set; }

    public bool Has(string workload) => Only.Contains(workload);

    public static BenchSettings Parse(string[] args)
    {
        var s = new BenchSettings();
        for (var i = 0; i < args.Length; i++)
        {
            var key = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new BenchException($"{key} needs a value");
            int Int() => int.Parse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture);
            double Num() => double.Parse(Next(), NumberStyles.Float, CultureInfo.InvariantCulture);
            switch (key)
            {
                case "--systems":
                    s.Systems.Clear();
                    s.Systems.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(x => x != "none"));
                    break;
                case "--remotetest-dll": s.RemoteTestDll = Next(); break;
                case "--server-env": Pair(s.ServerEnvironment, Next()); break;
                case "--server-arg": Pair(s.ServerSettings, Next()); break;
                case "--postgres": s.Postgres = Next(); break;
                case "--rabbitmq": s.RabbitMq = Next(); break;
                case "--original": s.OriginalUrl = Loopback(Next()); break;
                case "--original-pids": s.OriginalPids = Next(); break;
                case "--original-benchpy": s.OriginalBenchPy = Next(); break;
                case "--url": s.ExternalUrl = Loopback(Next()); break;
                case "--pid": s.ExternalPids.Add(Int()); break;
                case "--token": s.Token = Next(); break;
                case "--runs": s.Runs = Math.Max(1, Int()); break;
                case "--only":
                    s.Only.Clear();
                    s.Only.UnionWith(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                case "--lat-n": s.LatencyTasks = Int(); break;
                case "--warmup": s.Warmup = Int(); break;
                case "--poll-ms": s.Poll = TimeSpan.FromMilliseconds(Num()); break;
                case "--tp-n": s.ThroughputTasks = Int(); break;
                case "--tp-clients": s.Clients = Math.Max(1, Int()); break;
                case "--tp-poll-ms": s.ThroughputPoll = TimeSpan.FromMilliseconds(Num()); break;
                case "--soak-n": s.SoakTasks = Int(); break;
                case "--dns-names": s.DnsNames = Int(); break;
                case "--port-base": s.PortBase = Int(); break;
                case "--task-deadline": s.TaskDeadline = TimeSpan.FromSeconds(Num()); break;
                case "--pause": s.Pause = TimeSpan.FromSeconds(Num()); break;
                case "--work": s.WorkDirectory = Next(); break;
                case "--json": s.JsonPath = Next(); break;
                case "--markdown": s.MarkdownPath = Next(); break;
                default: throw new BenchException($"unknown option {key}\n{Usage}");
            }
        }
        return s;
    }

    private static void Pair(Dictionary<string, string> into, string kv)
    {
        var i = kv.IndexOf('=', StringComparison.Ordinal);
        if (i <= 0)
        {
            throw new BenchException($"expected KEY=VALUE, got '{kv}'");
        }
        into[kv[..i]] = kv[(i + 1)..];
    }

    /// <summary>Every system measured must be on 127.0.0.0/8 or ::1: the harness sends load, never to another host.</summary>
    private static Uri Loopback(string url)
    {
        var uri = new Uri(url);
        var addresses = System.Net.Dns.GetHostAddresses(uri.Host);
        if (addresses.Length == 0 || !addresses.All(System.Net.IPAddress.IsLoopback))
        {
            throw new BenchException($"refusing {url}: only loopback servers are measured");
        }
        return uri;
    }
}
