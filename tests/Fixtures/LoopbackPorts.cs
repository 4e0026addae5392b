using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Fixtures;

/// <summary>A loopback port that refuses connections: bound (so nobody else takes it) but not listening.</summary>
public sealed class ClosedPort : IDisposable
{
    private readonly Socket _socket;

    public ClosedPort(IPAddress? address = null)
    {
        address ??= IPAddress.Loopback;
        _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.Bind(new IPEndPoint(address, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }
    public int Port => EndPoint.Port;

    public void Dispose() => _socket.Dispose();
}

/// <summary>
/// A loopback port whose connects hang, as a filtered port's do: it listens with a backlog of 0, never accepts,
/// and its accept queue is filled, so the kernel drops further SYNs and a client waits for its own timeout.
/// </summary>
public sealed class HangingPort : IDisposable
{
    /// <summary>How long a probe connect must stay pending to count as hanging.</summary>
    public static readonly TimeSpan HangProof = TimeSpan.FromMilliseconds(500);

    private const int MaxFillers = 16;
    private readonly Socket _listener;
    private readonly List<Socket> _fillers = [];

    private HangingPort()
    {
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(0);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }
    public int Port => EndPoint.Port;

    /// <summary>Opens a port, fills its queue, and proves that a further connect hangs; throws if it cannot.</summary>
    public static async Task<HangingPort> OpenAsync()
    {
        var port = new HangingPort();
        try
        {
            for (var i = 0; i < MaxFillers; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                // The first connect must fit in the queue: a generous wait, so a loaded machine is not mistaken for a full queue.
                using var attempt = new CancellationTokenSource(i == 0 ? TimeSpan.FromSeconds(10) : HangProof);
                try
                {
                    await filler.ConnectAsync(port.EndPoint, attempt.Token);
                    port._fillers.Add(filler);
                }
                catch (OperationCanceledException) when (i > 0)
                {
                    // The queue is full: this connect hung, which is the proof wanted.
                    filler.Dispose();
                    return port;
                }
            }
            throw new InvalidOperationException($"loopback port {port.Port} still accepted connects after {MaxFillers} fillers; cannot make a hanging port here");
        }
        catch
        {
            port.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="count"/> hanging ports at once.</summary>
    public static async Task<HangingPort[]> OpenManyAsync(int count) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => OpenAsync()));

    public void Dispose()
    {
        foreach (var filler in _fillers)
        {
            filler.Dispose();
        }
        _listener.Dispose();
    }
}
