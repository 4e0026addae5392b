using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace RemoteTest.Security;

/// <summary>
/// The network-target guard every probe's connect function calls: judges the resolved address with
/// <see cref="TargetPolicy"/> and keeps at most <c>Targets:MaxConnectionsPerAddress</c> connections open to one
/// address across all tasks of this process (politeness: a task of 1,000 ports must not flood one host).
/// </summary>
public sealed class TargetGuard(TargetPolicy policy, IOptions<Security.TargetsOptions> targetsOptions, ILogger<TargetGuard> log)
{
    private readonly Dictionary<IPAddress, Slot> _slots = [];
    private readonly int _perAddress = targetsOptions.Value.MaxConnectionsPerAddress;

    public TargetPolicy Policy => policy;

    /// <summary>Null when <paramref name="address"/> may be reached; else the result's error text ("target not allowed: ...").</summary>
    public string? Check(IPAddress address) => policy.Refusal(address) is { } why ? TargetPolicy.Describe(why) : null;

    /// <summary>Throws <see cref="TargetNotAllowedException"/> when <paramref name="address"/> is denied.</summary>
    public void Demand(IPAddress address, string? host = null)
    {
        if (Check(address) is { } error)
        {
            log.LogWarning("Target {Host} ({Address}) refused: {Reason}", host ?? address.ToString(), address, error);
            throw new TargetNotAllowedException(address, error);
        }
    }

    /// <summary>
    /// The up-front check of a target as a client wrote it: an IP literal, or a name that can only mean this machine
    /// (localhost). Null when allowed or not known before resolution; names are judged again, resolved, on connect.
    /// </summary>
    public string? CheckAsWritten(string host)
    {
        var h = host.Trim().Trim('[', ']').TrimEnd('.');
        if (IPAddress.TryParse(h, out var literal))
        {
            return Check(literal);
        }
        if (h.Equals("localhost", StringComparison.OrdinalIgnoreCase) || h.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase))
        {
            return Check(IPAddress.Loopback);
        }
        return null;
    }

    /// <summary>Waits for one of the connection slots of <paramref name="address"/>; dispose the lease when the connection closes.</summary>
    public async ValueTask<IDisposable> AcquireAsync(IPAddress address, CancellationToken cancellationToken)
    {
        var key = TargetPolicy.Normalize(address);
        Slot slot;
        lock (_slots)
        {
            if (!_slots.TryGetValue(key, out slot!))
            {
                slot = new Slot(_perAddress);
                _slots[key] = slot;
            }
            slot.Users++;
        }
        try
        {
            await slot.Gate.WaitAsync(cancellationToken);
        }
        catch
        {
            Leave(key, slot, release: false);
            throw;
        }
        return new Lease(this, key, slot);
    }

    /// <summary>Connections to <paramref name="address"/> open (or opening) right now; for tests and metrics.</summary>
    public int OpenTo(IPAddress address)
    {
        lock (_slots)
        {
            return _slots.TryGetValue(TargetPolicy.Normalize(address), out var s) ? _perAddress - s.Gate.CurrentCount : 0;
        }
    }

    /// <summary>
    /// Checks, takes a politeness slot and connects a TCP socket to <paramref name="endpoint"/>. The returned
    /// connection releases the slot when disposed. Denied: <see cref="TargetNotAllowedException"/>; failures: SocketException.
    /// </summary>
    public async Task<GuardedConnection> ConnectTcpAsync(IPEndPoint endpoint, CancellationToken cancellationToken, string? host = null)
    {
        Demand(endpoint.Address, host);
        var lease = await AcquireAsync(endpoint.Address, cancellationToken);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
            return new GuardedConnection(socket, lease);
        }
        catch
        {
            socket.Dispose();
            lease.Dispose();
            throw;
        }
    }

    private void Leave(IPAddress key, Slot slot, bool release)
    {
        if (release)
        {
            slot.Gate.Release();
        }
        lock (_slots)
        {
            if (--slot.Users == 0)
            {
                _slots.Remove(key);
                slot.Gate.Dispose();
            }
        }
    }

    private sealed class Slot(int size)
    {
        public SemaphoreSlim Gate { get; } = new(size, size);
        public int Users { get; set; }
    }

    private sealed class Lease(TargetGuard guard, IPAddress key, Slot slot) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                guard.Leave(key, slot, release: true);
            }
        }
    }
}

/// <summary>A target the policy refuses; probes turn it into a result with error_kind <c>not_allowed</c>.</summary>
public sealed class TargetNotAllowedException(IPAddress address, string message) : Exception(message)
{
    public IPAddress Address { get; } = address;

    public string ErrorKind => Probes.ErrorKind.NotAllowed;
}

/// <summary>A connected socket holding one politeness slot of its address until disposed.</summary>
public sealed class GuardedConnection(Socket socket, IDisposable lease) : IDisposable
{
    public Socket Socket { get; } = socket;

    /// <summary>A stream that owns the socket and gives the slot back when it is closed (for HttpClient's ConnectCallback).</summary>
    public Stream GetStream() => new LeasedNetworkStream(Socket, lease);

    public void Dispose()
    {
        Socket.Dispose();
        lease.Dispose();
    }

}

/// <summary>A stream that owns its socket and gives the politeness slot back when it is closed.</summary>
public sealed class LeasedNetworkStream(Socket socket, IDisposable? lease) : NetworkStream(socket, ownsSocket: true)
{
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        lease?.Dispose();
    }
}
