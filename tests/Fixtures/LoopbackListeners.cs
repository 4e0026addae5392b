using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace RemoteTest.Fixtures;

/// <summary>A loopback TCP listener that hands each accepted connection to a handler until disposed.</summary>
public class LoopbackListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Task> _connections = [];

    protected LoopbackListener(IPAddress? address = null, int port = 0)
    {
        address ??= IPAddress.Loopback;
        _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _socket.Bind(new IPEndPoint(address, port));
        _socket.Listen(512);
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint EndPoint { get; }
    public int Port => EndPoint.Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    private int _accepted;

    /// <summary>Serves one connection; the token fires when the listener is disposed.</summary>
    protected virtual Task HandleAsync(Socket connection, CancellationToken stop) => Task.CompletedTask;

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _socket.AcceptAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            Interlocked.Increment(ref _accepted);
            lock (_connections)
            {
                _connections.Add(Task.Run(async () =>
                {
                    using (connection)
                    {
                        try
                        {
                            await HandleAsync(connection, _stop.Token);
                        }
                        catch (Exception)
                        {
                            // A test server ignores its clients' misbehaviour; the test checks the client side.
                        }
                    }
                }));
            }
        }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        _stop.Cancel();
        _socket.Dispose();
        await _acceptLoop;
        Task[] pending;
        lock (_connections)
        {
            pending = [.. _connections];
        }
        await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Reads until the client closes, the listener stops, or <paramref name="limit"/> passes.</summary>
    protected static async Task DrainAsync(Stream stream, CancellationToken stop, TimeSpan limit)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(limit);
        var buffer = new byte[4096];
        try
        {
            while (await stream.ReadAsync(buffer, deadline.Token) > 0)
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}

/// <summary>A TLS server presenting a certificate and the intermediates given (the root is never sent).</summary>
public sealed class TlsTestServer : LoopbackListener
{
    private readonly SslStreamCertificateContext _context;

    private TlsTestServer(SslStreamCertificateContext context, IPAddress? address, int port) : base(address, port) => _context = context;

    /// <summary>Serves <paramref name="certificate"/> followed by <paramref name="intermediates"/> on a loopback port (0: a free one).</summary>
    public static TlsTestServer Start(X509Certificate2 certificate, IEnumerable<X509Certificate2>? intermediates = null, IPAddress? address = null, int port = 0) =>
        new(SslStreamCertificateContext.Create(certificate, new X509Certificate2Collection((intermediates ?? []).ToArray()), offline: true), address, port);

    /// <summary>The server name (SNI) each client sent, in order.</summary>
    public IReadOnlyList<string> ServerNames
    {
        get
        {
            lock (_names)
            {
                return [.. _names];
            }
        }
    }

    private readonly List<string> _names = [];

    protected override async Task HandleAsync(Socket connection, CancellationToken stop)
    {
        await using var ssl = new SslStream(new NetworkStream(connection, ownsSocket: false));
        using var handshake = CancellationTokenSource.CreateLinkedTokenSource(stop);
        handshake.CancelAfter(TimeSpan.FromSeconds(10));
        // The name is recorded when the ClientHello arrives, before the server answers, so a client that has
        // finished its handshake always finds its SNI here (TLS 1.3 clients finish before the server does).
        await ssl.AuthenticateAsServerAsync((_, hello, _, _) =>
        {
            lock (_names)
            {
                _names.Add(hello.ServerName);
            }
            return ValueTask.FromResult(new SslServerAuthenticationOptions { ServerCertificateContext = _context });
        }, null, handshake.Token);
        await DrainAsync(ssl, stop, TimeSpan.FromSeconds(10));
    }
}

/// <summary>Accepts connections and never says a word: a TLS client waits for a ServerHello that never comes.</summary>
public sealed class SilentListener : LoopbackListener
{
    public static SilentListener Start(IPAddress? address = null) => new(address);

    private SilentListener(IPAddress? address) : base(address)
    {
    }

    private int _open;
    private int _maxOpen;

    /// <summary>The most connections this listener held open at one time.</summary>
    public int MaxConcurrent => Volatile.Read(ref _maxOpen);

    protected override async Task HandleAsync(Socket connection, CancellationToken stop)
    {
        var open = Interlocked.Increment(ref _open);
        for (var seen = Volatile.Read(ref _maxOpen); open > seen; seen = Volatile.Read(ref _maxOpen))
        {
            Interlocked.CompareExchange(ref _maxOpen, open, seen);
        }
        try
        {
            // Hold the connection, unread, until the client gives up (its read returns 0) or the listener stops.
            await DrainAsync(new NetworkStream(connection, ownsSocket: false), stop, TimeSpan.FromSeconds(60));
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }
}

/// <summary>A plain-text server (HTTP-like) on what the client believes is a TLS port.</summary>
public sealed class PlainTextListener : LoopbackListener
{
    public const string Answer = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    public static PlainTextListener Start(IPAddress? address = null) => new(address);

    private PlainTextListener(IPAddress? address) : base(address)
    {
    }

    protected override async Task HandleAsync(Socket connection, CancellationToken stop)
    {
        var buffer = new byte[4096];
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        await connection.ReceiveAsync(buffer, deadline.Token);
        await connection.SendAsync(Encoding.ASCII.GetBytes(Answer), deadline.Token);
        connection.Shutdown(SocketShutdown.Both);
    }
}

/// <summary>A plain TCP server that accepts and closes: an open port without TLS expectations.</summary>
public sealed class OpenPortListener : LoopbackListener
{
    public static OpenPortListener Start(IPAddress? address = null) => new(address);

    private OpenPortListener(IPAddress? address) : base(address)
    {
    }

    protected override async Task HandleAsync(Socket connection, CancellationToken stop)
    {
        await DrainAsync(new NetworkStream(connection, ownsSocket: false), stop, TimeSpan.FromSeconds(10));
    }
}
