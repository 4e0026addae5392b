using System.Diagnostics;

namespace RemoteTest.Tests.PathTrace;

/// <summary>
/// A small routed network of Linux network namespaces, torn down on dispose (and any leftovers of a crashed run
/// on the next start):
/// <code>
/// client 10.201.1.2 ── 10.201.1.1 router1 10.201.2.1 ── 10.201.2.2 router2 10.201.3.1 ── 10.201.3.2 target
/// </code>
/// router2's forward chain drops TCP 8443 and UDP 5061 and rejects TCP 8444 with ICMP admin-prohibited. Nothing
/// in the lab has a route out of it, so no probe leaves the machine.
/// </summary>
public sealed class RoutedLab : IDisposable
{
    public const string Client = "10.201.1.2";
    public const string Hop1 = "10.201.1.1";
    public const string Hop2 = "10.201.2.2";
    public const string Target = "10.201.3.2";
    public const int DroppedTcpPort = 8443;
    public const int RejectedTcpPort = 8444;
    public const int DroppedUdpPort = 5061;

    private static int _labs;
    private readonly string _prefix;

    public string ClientNs => _prefix + "c";
    public string Router1Ns => _prefix + "r1";
    public string Router2Ns => _prefix + "r2";
    public string TargetNs => _prefix + "t";

    /// <summary>Null when the lab can be built here; else why the tests skip.</summary>
    public static string? Unavailable()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "network namespaces need Linux";
        }
        if (Environment.UserName != "root" && !string.Equals(Environment.GetEnvironmentVariable("USER"), "root", StringComparison.Ordinal) && Geteuid() != 0)
        {
            return "the routed-path tests build network namespaces and need root (CI runs as root)";
        }
        foreach (var tool in new[] { "ip", "nft" })
        {
            if (!OnPath(tool))
            {
                return $"'{tool}' is missing (scripts/test-deps.sh installs iproute2 and nftables)";
            }
        }
        return null;
    }

    public RoutedLab()
    {
        _prefix = $"rtl{Environment.ProcessId % 100000}x{Interlocked.Increment(ref _labs)}";
        RemoveStale();
        try
        {
            Build();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Build()
    {
        foreach (var ns in new[] { ClientNs, Router1Ns, Router2Ns, TargetNs })
        {
            Ip($"netns add {ns}");
            Ip($"-n {ns} link set lo up");
            // Routers (and the target) answer every probe: no ICMP rate limit, so MTR's loss is the path's, not the limiter's.
            Exec(ns, ["sh", "-c", "echo 0 > /proc/sys/net/ipv4/icmp_ratelimit; echo 1 > /proc/sys/net/ipv4/ip_forward"]);
        }
        Ip($"link add c0 netns {ClientNs} type veth peer name in0 netns {Router1Ns}");
        Ip($"link add out0 netns {Router1Ns} type veth peer name in0 netns {Router2Ns}");
        Ip($"link add out0 netns {Router2Ns} type veth peer name t0 netns {TargetNs}");
        Address(ClientNs, "c0", Client + "/24");
        Address(Router1Ns, "in0", Hop1 + "/24");
        Address(Router1Ns, "out0", "10.201.2.1/24");
        Address(Router2Ns, "in0", Hop2 + "/24");
        Address(Router2Ns, "out0", "10.201.3.1/24");
        Address(TargetNs, "t0", Target + "/24");
        Ip($"-n {ClientNs} route add default via {Hop1}");
        Ip($"-n {Router1Ns} route add 10.201.3.0/24 via {Hop2}");
        Ip($"-n {Router2Ns} route add 10.201.1.0/24 via 10.201.2.1");
        Ip($"-n {TargetNs} route add default via 10.201.3.1");
        Exec(Router2Ns, ["nft", "-f", "-"], stdin: $$"""
            table inet lab {
              chain forward {
                type filter hook forward priority 0; policy accept;
                tcp dport {{DroppedTcpPort}} drop
                udp dport {{DroppedUdpPort}} drop
                tcp dport {{RejectedTcpPort}} reject with icmp type admin-prohibited
              }
            }
            """);
    }

    /// <summary>
    /// Loses <paramref name="percent"/> % of the packets router1 forwards towards router2 until the returned handle is
    /// disposed: tc netem where the kernel has it, else an nftables rule dropping at random (kernels built without netem).
    /// </summary>
    public IDisposable Loss(int percent)
    {
        var (code, _) = Run("ip", ["netns", "exec", Router1Ns, "tc", "qdisc", "add", "dev", "out0", "root", "netem", "loss", $"{percent}%"], null, check: false);
        if (code == 0)
        {
            return new Undo(() => Exec(Router1Ns, ["tc", "qdisc", "del", "dev", "out0", "root"]));
        }
        Exec(Router1Ns, ["nft", "-f", "-"], stdin: $$"""
            table inet loss {
              chain forward {
                type filter hook forward priority 0; policy accept;
                oifname "out0" numgen random mod 100 < {{percent}} drop
              }
            }
            """);
        return new Undo(() => Exec(Router1Ns, ["nft", "delete", "table", "inet", "loss"]));
    }

    public void Dispose()
    {
        foreach (var ns in new[] { ClientNs, Router1Ns, Router2Ns, TargetNs })
        {
            Run("ip", ["netns", "del", ns], null, check: false);
        }
    }

    /// <summary>Namespaces a killed test run of this machine left behind (a process id that is gone).</summary>
    private static void RemoveStale()
    {
        var (_, list) = Run("ip", ["netns", "list"], null, check: false);
        foreach (var line in list.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith("rtl", StringComparison.Ordinal) || !int.TryParse(name[3..name.IndexOf('x')], out var pid))
            {
                continue;
            }
            var alive = false;
            try
            {
                using var p = Process.GetProcessById(pid);
                alive = p.ProcessName.Contains("testhost", StringComparison.OrdinalIgnoreCase) || p.ProcessName.Contains("dotnet", StringComparison.OrdinalIgnoreCase);
            }
            catch (ArgumentException)
            {
            }
            if (!alive && pid != Environment.ProcessId % 100000)
            {
                Run("ip", ["netns", "del", name], null, check: false);
            }
        }
    }

    private static void Address(string ns, string dev, string cidr)
    {
        Ip($"-n {ns} addr add {cidr} dev {dev}");
        Ip($"-n {ns} link set {dev} up");
    }

    private static void Ip(string args) => Run("ip", args.Split(' '), null);

    private static void Exec(string ns, string[] command, string? stdin = null) =>
        Run("ip", ["netns", "exec", ns, .. command], stdin);

    private static (int Code, string Output) Run(string file, string[] args, string? stdin, bool check = true)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            process.Kill();
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} hung");
        }
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Result}");
        }
        return (process.ExitCode, output.Result);
    }

    private static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin")
            .Any(dir => File.Exists(Path.Combine(dir, tool)));

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint Geteuid();

    private sealed class Undo(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }
}
