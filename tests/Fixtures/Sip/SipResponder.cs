using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using RemoteTest.Fixtures.BroadWorks;

namespace RemoteTest.Fixtures.Sip;

/// <summary>
/// A small SIP responder on loopback: answers OPTIONS over UDP and TCP (one port number, as a real SBC's 5060) and
/// TLS (another, as 5061) with 200 OK and a Server header. <see cref="Fault"/>: <see cref="FaultMode.Status500"/>
/// answers 503, <see cref="FaultMode.NeverAnswer"/> stays silent, <see cref="FaultMode.Garbage"/> answers noise.
/// </summary>
public sealed class SipResponder : IAsyncDisposable
{
    public const string ServerHeader = "FakeSBC/2.1 (RemoteTest fixture)";

    private readonly CancellationTokenSource _stop = new();
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly TcpListener _tls;
    private readonly SslStreamCertificateContext _certificate;
    private readonly List<Task> _loops = [];

    private SipResponder(IPAddress address, SslStreamCertificateContext certificate)
    {
        _certificate = certificate;
        (_tcp, _udp) = BindPair(address);
        Port = ((IPEndPoint)_tcp.LocalEndpoint).Port;
        _tls = new TcpListener(address, 0);
        _tls.Start();
        TlsPort = ((IPEndPoint)_tls.LocalEndpoint).Port;
        _loops.Add(UdpLoopAsync());
        _loops.Add(AcceptLoopAsync(_tcp, tls: false));
        _loops.Add(AcceptLoopAsync(_tls, tls: true));
    }

    /// <summary>The UDP and TCP port.</summary>
    public int Port { get; }

    public int TlsPort { get; }

    public FaultMode Fault { get; set; }

    /// <summary>"transport method" of every request received.</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    public static SipResponder Start(SslStreamCertificateContext certificate, IPAddress? address = null) => new(address ?? IPAddress.Loopback, certificate);

    /// <summary>A TCP listener and a UDP socket on the same port number; a few tries in case UDP's is taken.</summary>
    private static (TcpListener, Socket) BindPair(IPAddress address)
    {
        for (var attempt = 0; ; attempt++)
        {
            var tcp = new TcpListener(address, 0);
            tcp.Start();
            var udp = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try
            {
                udp.Bind(new IPEndPoint(address, ((IPEndPoint)tcp.LocalEndpoint).Port));
                return (tcp, udp);
            }
            catch (SocketException) when (attempt < 20)
            {
                udp.Dispose();
                tcp.Stop();
            }
        }
    }

    private async Task UdpLoopAsync()
    {
        var buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await _udp.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                // Over UDP each message is its own datagram.
                foreach (var message in Answer(Encoding.UTF8.GetString(buffer, 0, received.ReceivedBytes), "UDP") ?? [])
                {
                    await _udp.SendToAsync(Encoding.UTF8.GetBytes(message), received.RemoteEndPoint, _stop.Token);
                }
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
            }
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener, bool tls)
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var client = await listener.AcceptTcpClientAsync(_stop.Token);
                _ = ServeAsync(client, tls);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
            }
        }
    }

    private async Task ServeAsync(TcpClient client, bool tls)
    {
        using var connection = client;
        try
        {
            Stream stream = client.GetStream();
            if (tls)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _certificate }, _stop.Token);
                stream = ssl;
            }
            var text = new StringBuilder();
            var chunk = new byte[4096];
            while (!text.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(chunk, _stop.Token);
                if (read == 0)
                {
                    return;
                }
                text.Append(Encoding.UTF8.GetString(chunk, 0, read));
            }
            var answer = Answer(text.ToString(), tls ? "TLS" : "TCP");
            if (answer is null)
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
                return;
            }
            await stream.WriteAsync(Encoding.UTF8.GetBytes(string.Concat(answer)), _stop.Token);
            await stream.FlushAsync(_stop.Token);
            // Keep the connection open a little, as a SIP peer does, until the client closes it.
            var closed = await stream.ReadAsync(chunk, _stop.Token);
            GC.KeepAlive(closed);
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
        catch (System.Security.Authentication.AuthenticationException)
        {
        }
    }

    /// <summary>The responses to one request (a provisional 100, then the final one), or null to stay silent.</summary>
    private string[]? Answer(string request, string transport)
    {
        var lines = request.Split("\r\n");
        Received.Enqueue($"{transport} {lines[0].Split(' ')[0]}");
        if (Fault == FaultMode.NeverAnswer)
        {
            return null;
        }
        if (Fault == FaultMode.Garbage)
        {
            return ["HELLO this is not SIP\r\n\r\n"];
        }
        var (status, reason) = Fault == FaultMode.Status500 ? (503, "Service Unavailable") : (200, "OK");
        var copy = new StringBuilder();
        foreach (var line in lines.Skip(1))
        {
            var name = line.Split(':', 2)[0].Trim();
            if (name is "Via" or "From" or "Call-ID" or "CSeq")
            {
                copy.Append(line).Append("\r\n");
            }
            else if (name == "To")
            {
                copy.Append(line).Append(";tag=fixture1\r\n");
            }
        }
        return [$"SIP/2.0 100 Trying\r\n{copy}Content-Length: 0\r\n\r\n",
               $"SIP/2.0 {status} {reason}\r\n{copy}Server: {ServerHeader}\r\nAllow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n"];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Stop();
        _tls.Stop();
        try
        {
            await Task.WhenAll(_loops);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
