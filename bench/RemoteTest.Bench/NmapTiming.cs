using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace RemoteTest.Bench;

/// <summary>
/// Times Debian's <c>nmap -sT</c> (a full TCP connect scan, what porttest does) of 127.0.0.1, in the same run
/// as the porttest it is compared with. <c>-n</c> keeps nmap from sending a reverse-DNS query to the
/// system's resolver (not on loopback); <c>-Pn</c> skips host discovery, which porttest does not do either.
/// </summary>
public static partial class NmapTiming
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    public static async Task<WorkloadResult> RunAsync(string name, string ports, int expectedOpen, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("nmap") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-n", "-Pn", "-sT", "-p", ports, "127.0.0.1" })
        {
            info.ArgumentList.Add(a);
        }
        var t0 = Stopwatch.GetTimestamp();
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new BenchException("nmap did not start");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return new WorkloadResult(name, $"{name,-12} nmap not installed (apt-get install nmap)", []);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(Limit);
            await process.WaitForExitAsync(limit.Token);
            var wall = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            var output = await stdout + await stderr;
            var open = OpenLine().Matches(output).Count;
            var own = ScannedIn().Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : (double?)null;
            var f = new Dictionary<string, double?>
            {
                ["wall_s"] = Math.Round(wall, 3),
                ["scanned_in_s"] = own,
                ["open"] = open,
                ["wrong"] = expectedOpen >= 0 ? Math.Abs(open - expectedOpen) : null,
            };
            var line = $"{name,-12} nmap -n -Pn -sT -p {ports} 127.0.0.1: {wall:0.000} s wall (nmap's own \"scanned in\" {Workloads.Show(own)} s), {open} open" +
                       (expectedOpen >= 0 ? $" (expected {expectedOpen})" : "");
            return new WorkloadResult(name, line, f);
        }
    }

    [GeneratedRegex(@"^\d+/tcp\s+open\s", RegexOptions.Multiline)]
    private static partial Regex OpenLine();

    [GeneratedRegex(@"scanned in ([0-9.]+) seconds")]
    private static partial Regex ScannedIn();
}
