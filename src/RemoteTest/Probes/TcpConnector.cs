using System.Net;
using System.Net.Sockets;
using RemoteTest.Security;

namespace RemoteTest.Probes;

/// <summary>
/// Opens outbound TCP connections. Every probe that connects anywhere goes through <see cref="ConnectAsync"/>,
/// so a policy on where the service may connect (the network-target guard) has exactly one place to sit.
/// </summary>
/// <param name="guard">The target policy and per-address politeness; the service always passes it (probe unit tests may not).</param>
/// <param name="sockets">Where sockets are made (the namespace tests make them inside a network namespace); null: here.</param>
public sealed class TcpConnector(TimeProvider time, TargetGuard? guard = null, TraceSockets? sockets = null)
{
    /// <summary>
    /// Connects to <paramref name="endpoint"/> within <paramref name="timeout"/>. A refused, unreachable or
    /// silent endpoint is a result with a person-readable <c>Error</c>, not an exception; only cancellation
    /// of <paramref name="cancellationToken"/> throws.
    /// </summary>
    public async Task<TcpConnectResult> ConnectAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        // Judged on the address itself, after any name resolution, so a name that resolves to a denied address
        // (DNS rebinding included) is refused before a packet is sent.
        if (guard?.Check(endpoint.Address) is { } refusal)
        {
            return Failed(refusal, ErrorKind.NotAllowed);
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        IDisposable? lease = null;
        var socket = sockets?.Create(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) ?? new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        try
        {
            // Politeness: waiting for one of the address's connection slots counts against the timeout.
            lease = guard is null ? null : await guard.AcquireAsync(endpoint.Address, deadline.Token);
            await socket.ConnectAsync(endpoint, deadline.Token);
            return new TcpConnectResult(endpoint, socket, time.GetElapsedTime(started), null, null, lease);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Release();
            return Failed($"timed out after {ProbeText.Seconds(timeout)} s", ErrorKind.Timeout);
        }
        catch (SocketException ex)
        {
            Release();
            var (error, kind) = Describe(ex.SocketErrorCode, ex.Message, endpoint);
            return Failed(error, kind);
        }
        catch
        {
            Release();
            throw;
        }

        void Release()
        {
            socket.Dispose();
            lease?.Dispose();
        }

        TcpConnectResult Failed(string error, string kind) => new(endpoint, null, time.GetElapsedTime(started), error, kind);
    }

    internal static (string Error, string Kind) Describe(SocketError code, string message, IPEndPoint endpoint) => code switch
    {
        SocketError.ConnectionRefused => ("connection refused", ErrorKind.Refused),
        SocketError.ConnectionReset => ("connection reset by the server", ErrorKind.Refused),
        SocketError.TimedOut => ("timed out (no answer from the host)", ErrorKind.Timeout),
        SocketError.NetworkUnreachable => ("network unreachable", ErrorKind.Unreachable),
        SocketError.HostUnreachable => ("host unreachable", ErrorKind.Unreachable),
        SocketError.NetworkDown => ("network down", ErrorKind.Unreachable),
        SocketError.AddressNotAvailable => ($"address not available: this machine has no route to {endpoint.Address}", ErrorKind.Unreachable),
        SocketError.AddressFamilyNotSupported => (
            endpoint.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6 is not available on this machine" : "address family not supported",
            ErrorKind.Unreachable),
        SocketError.AccessDenied => ("permission denied (a local firewall rule?)", ErrorKind.Unreachable),
        _ => ($"connect failed: {message}", ErrorKind.Unreachable),
    };
}

/// <summary>The outcome of one TCP connect: the open socket (owned by the caller) or why there is none.</summary>
/// <param name="lease">The politeness slot the connection holds; given back when the socket or its stream is closed.</param>
public sealed class TcpConnectResult(IPEndPoint endpoint, Socket? socket, TimeSpan elapsed, string? error, string? errorKind, IDisposable? lease = null) : IDisposable
{
    public IPEndPoint Endpoint { get; } = endpoint;
    public Socket? Socket { get; } = socket;
    public bool Connected => Socket is not null;
    public TimeSpan Elapsed { get; } = elapsed;
    public string? Error { get; } = error;
    public string? ErrorKind { get; } = errorKind;

    /// <summary>A stream over the connected socket that closes the socket when disposed.</summary>
    public NetworkStream GetStream() =>
        new LeasedNetworkStream(Socket ?? throw new InvalidOperationException($"not connected: {Error}"), lease);

    public void Dispose()
    {
        Socket?.Dispose();
        lease?.Dispose();
    }
}
