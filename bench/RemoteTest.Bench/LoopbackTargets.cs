using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Bench;

/// <summary>
/// The port-scan targets of workloads c and d, all on 127.0.0.0/8 at fixed ports above <c>portBase</c>:
/// listeners that accept and close at once (open ports), nothing (closed ports), and "hanging" ports — a
/// listen backlog of 0, never accepted, its queue filled by one connection, so the kernel drops later SYNs
/// and a client's connect waits for its own timeout, as with a filtered port.
/// </summary>
public sealed class LoopbackTargets : IAsyncDisposable
{
    private const int OpenBacklog = 512;
    private static readonly TimeSpan HangProof = TimeSpan.FromMilliseconds(300);

    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _acceptLoops = [];
    private readonly CancellationTokenSource _stop = new();

    private LoopbackTargets(int portBase) => PortBase = portBase;

    public int PortBase { get; }

    /// <summary>c1: 127.0.0.1 × 1,000 consecutive ports, 10 of them open.</summary>
    public required PortPlan OneHostThousandPorts { get; init; }

    /// <summary>c2: 127.0.0.1 … 127.0.0.50 × 4 ports, the first open on each address.</summary>
    public required PortPlan FiftyHostsFourPorts { get; init; }

    /// <summary>d1: 127.0.0.1 × 20 hanging ports.</summary>
    public required PortPlan OneHostTwentyHanging { get; init; }

    /// <summary>d2: 127.0.0.1 … 127.0.0.20 × 1 hanging port.</summary>
    public required PortPlan TwentyHostsOneHanging { get; init; }

    /// <summary>What the harness checked before any task ran, e.g. "hanging 40/40".</summary>
    public string Checks { get; private set; } = "";

    /// <summary>The 1,000-port range of c1 as nmap's <c>-p</c> argument.</summary>
    public string ThousandPortRange => $"{PortBase}-{PortBase + 999}";

    public static async Task<LoopbackTargets> StartAsync(int portBase, CancellationToken cancellationToken)
    {
        var listeners = new List<Socket>();
        var fillers = new List<Socket>();
        try
        {
            var c1Ports = Enumerable.Range(portBase, 1000).ToArray();
            var c1Open = Enumerable.Range(0, 10).Select(k => portBase + 100 * k + 50).ToHashSet();
            var c2Port = portBase + 1000;
            var c2Hosts = Enumerable.Range(1, 50).Select(i => $"127.0.0.{i}").ToArray();
            var d1Ports = Enumerable.Range(portBase + 2000, 20).ToArray();
            var d2Port = portBase + 2100;
            var d2Hosts = Enumerable.Range(1, 20).Select(i => $"127.0.0.{i}").ToArray();

            var targets = new PendingTargets();
            foreach (var p in c1Open)
            {
                targets.Open.Add(Listen("127.0.0.1", p, OpenBacklog));
            }
            foreach (var h in c2Hosts)
            {
                targets.Open.Add(Listen(h, c2Port, OpenBacklog));
            }
            foreach (var (h, p) in d1Ports.Select(p => ("127.0.0.1", p)).Concat(d2Hosts.Select(h => (h, d2Port))))
            {
                var listener = Listen(h, p, 0);
                targets.Hanging.Add(listener);
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                await filler.ConnectAsync(new IPEndPoint(IPAddress.Parse(h), p), cancellationToken);
            }
            listeners.AddRange(targets.Open);
            listeners.AddRange(targets.Hanging);

            var result = new LoopbackTargets(portBase)
            {
                OneHostThousandPorts = new PortPlan("1 host × 1,000 ports (10 open)",
                    new Dictionary<string, int[]> { ["127.0.0.1"] = c1Ports },
                    c1Ports.ToDictionary(p => ("127.0.0.1", p), p => c1Open.Contains(p))),
                FiftyHostsFourPorts = new PortPlan("50 hosts × 4 ports (50 open)",
                    c2Hosts.ToDictionary(h => h, _ => new[] { c2Port, c2Port + 1, c2Port + 2, c2Port + 3 }),
                    c2Hosts.SelectMany(h => Enumerable.Range(0, 4).Select(i => ((h, c2Port + i), i == 0))).ToDictionary(x => x.Item1, x => x.Item2)),
                OneHostTwentyHanging = new PortPlan("1 host × 20 hanging ports",
                    new Dictionary<string, int[]> { ["127.0.0.1"] = d1Ports },
                    d1Ports.ToDictionary(p => ("127.0.0.1", p), _ => false)),
                TwentyHostsOneHanging = new PortPlan("20 hosts × 1 hanging port",
                    d2Hosts.ToDictionary(h => h, _ => new[] { d2Port }),
                    d2Hosts.ToDictionary(h => (h, d2Port), _ => false)),
            };
            result._sockets.AddRange(listeners);
            result._sockets.AddRange(fillers);
            foreach (var s in targets.Open)
            {
                result._acceptLoops.Add(result.AcceptAndCloseAsync(s));
            }

            // Prove every expectation on this kernel before any task runs: a wrong expectation would be
            // counted against the system under test.
            var c1 = await ProbeAllAsync(result.OneHostThousandPorts, cancellationToken);
            var c2 = await ProbeAllAsync(result.FiftyHostsFourPorts, cancellationToken);
            var hanging = await Task.WhenAll(result.OneHostTwentyHanging.Expected.Keys.Concat(result.TwentyHostsOneHanging.Expected.Keys)
                .Select(k => ProbeAsync(k.Host, k.Port, HangProof, cancellationToken)));
            var port1 = await ProbeAsync("127.0.0.1", 1, TimeSpan.FromSeconds(1), cancellationToken);
            result.Checks = $"c1 {c1}; c2 {c2}; hanging {hanging.Count(h => h == ProbeState.Hang)}/{hanging.Length}; 127.0.0.1:1 {port1.ToString().ToLowerInvariant()}";
            return result;
        }
        catch
        {
            foreach (var s in listeners.Concat(fillers))
            {
                s.Dispose();
            }
            throw;
        }
    }

    private static Socket Listen(string host, int port, int backlog)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(new IPEndPoint(IPAddress.Parse(host), port));
            s.Listen(backlog);
            return s;
        }
        catch (SocketException ex)
        {
            s.Dispose();
            throw new BenchException($"cannot listen on {host}:{port} ({ex.SocketErrorCode}); choose another --port-base");
        }
    }

    private async Task AcceptAndCloseAsync(Socket listener)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var connection = await listener.AcceptAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private static async Task<string> ProbeAllAsync(PortPlan plan, CancellationToken cancellationToken)
    {
        var states = await Task.WhenAll(plan.Expected.Select(async kv =>
            (kv.Value, State: await ProbeAsync(kv.Key.Host, kv.Key.Port, TimeSpan.FromSeconds(1), cancellationToken))));
        var open = states.Count(s => s.State == ProbeState.Open);
        var mismatches = states.Count(s => s.Value != (s.State == ProbeState.Open));
        if (mismatches > 0)
        {
            throw new BenchException($"{plan.Description}: {mismatches} ports are not as planned on this machine (another program on ports {plan.Expected.Keys.Min(k => k.Port)}…?); choose another --port-base");
        }
        return $"{open} open of {states.Length}";
    }

    public enum ProbeState { Open, Closed, Hang, Error }

    private static async Task<ProbeState> ProbeAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(new IPEndPoint(IPAddress.Parse(host), port), deadline.Token);
            return ProbeState.Open;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProbeState.Hang;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return ProbeState.Closed;
        }
        catch (SocketException)
        {
            return ProbeState.Error;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var s in _sockets)
        {
            s.Dispose();
        }
        await Task.WhenAll(_acceptLoops).WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private sealed class PendingTargets
    {
        public List<Socket> Open { get; } = [];
        public List<Socket> Hanging { get; } = [];
    }
}

/// <summary>A porttest payload and the state the harness knows every (host, port) of it to be in.</summary>
public sealed record PortPlan(string Description, IReadOnlyDictionary<string, int[]> Ports, IReadOnlyDictionary<(string Host, int Port), bool> Expected)
{
    /// <summary>The original's <c>data</c> argument: <c>{host: {"ports": [...]}}</c>.</summary>
    public System.Text.Json.Nodes.JsonObject Data()
    {
        var data = new System.Text.Json.Nodes.JsonObject();
        foreach (var (host, ports) in Ports)
        {
            data[host] = new System.Text.Json.Nodes.JsonObject { ["ports"] = new System.Text.Json.Nodes.JsonArray(ports.Select(p => (System.Text.Json.Nodes.JsonNode)p).ToArray()) };
        }
        return data;
    }

    /// <summary>How many (host, port) pairs of a porttest result disagree with what the harness knows.</summary>
    public int CountWrong(System.Text.Json.Nodes.JsonNode? result)
    {
        var wrong = 0;
        foreach (var ((host, port), open) in Expected)
        {
            var got = result?["results"]?[host]?["ports"]?[port.ToString(System.Globalization.CultureInfo.InvariantCulture)]?["open"];
            if (got is null || got.GetValue<bool>() != open)
            {
                wrong++;
            }
        }
        return wrong;
    }
}
