using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>
/// A fake Open Client Server speaking OCI-P on a loopback port, plain or TLS: it hands out a random nonce per
/// connection and accepts a LoginRequest14sp4 only when the signed password matches that nonce and the user's
/// password. <see cref="Fault"/> makes it misbehave; what it received is recorded for assertions.
/// </summary>
public sealed class FakeOciServer : IAsyncDisposable
{
    private static readonly byte[] End = Encoding.ASCII.GetBytes("</BroadsoftDocument>");
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly SslStreamCertificateContext? _certificate;
    private readonly Task _accepting;

    private FakeOciServer(IPAddress address, IReadOnlyDictionary<string, string> users, SslStreamCertificateContext? certificate, string algorithm)
    {
        _users = users;
        _certificate = certificate;
        Algorithm = algorithm;
        _listener = new TcpListener(address, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptLoopAsync();
    }

    public int Port { get; }

    /// <summary>MD5 or SHA: the passwordAlgorithm this server asks for.</summary>
    public string Algorithm { get; }

    public FaultMode Fault { get; set; }

    /// <summary>Every command received, as "sessionId command".</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>Raw bytes of every request document, to prove what went (and did not go) over the wire.</summary>
    public ConcurrentQueue<string> RawRequests { get; } = new();

    public static FakeOciServer Start(IReadOnlyDictionary<string, string> users, SslStreamCertificateContext? tlsCertificate = null, IPAddress? address = null, string algorithm = "MD5") =>
        new(address ?? IPAddress.Loopback, users, tlsCertificate, algorithm);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            Stream stream = client.GetStream();
            if (_certificate is not null)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _certificate }, _stop.Token);
                stream = ssl;
            }
            var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            while (!_stop.IsCancellationRequested)
            {
                var document = await ReadDocumentAsync(stream);
                if (document is null)
                {
                    return;
                }
                RawRequests.Enqueue(document);
                var request = OciXml.Parse(document);
                Received.Enqueue($"{request.SessionId} {request.Command}");
                switch (Fault)
                {
                    case FaultMode.NeverAnswer:
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                        return;
                    case FaultMode.Garbage:
                        await WriteAsync(stream, "this is not an OCI document </BroadsoftDocument>");
                        continue;
                    case FaultMode.CloseMidDocument:
                        var full = OciXml.Response(request.SessionId, "AuthenticationResponse", ("nonce", nonce));
                        await WriteAsync(stream, full[..(full.Length / 2)]);
                        return;
                }
                await WriteAsync(stream, Answer(request, nonce));
                if (request.Command == "LogoutRequest")
                {
                    return;
                }
            }
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

    private string Answer(OciXml.Request request, string nonce)
    {
        var user = request.Fields.GetValueOrDefault("userId", "");
        switch (request.Command)
        {
            case "AuthenticationRequest":
                return OciXml.Response(request.SessionId, "AuthenticationResponse", ("userId", user), ("nonce", nonce), ("passwordAlgorithm", Algorithm));
            case "LoginRequest14sp4":
                if (_users.TryGetValue(user, out var password) && request.Fields.GetValueOrDefault("signedPassword") == OciXml.Signed(nonce, password, Algorithm))
                {
                    // "Error" in user data: a client that looks for the substring would call this a failure.
                    return OciXml.Response(request.SessionId, "LoginResponse14sp4", ("loginType", "User"), ("locale", "en_US"), ("encoding", "ISO-8859-1"),
                        ("userDomain", "ErrorTracking.example"));
                }
                return OciXml.Error(request.SessionId, "[Error 4962] Invalid password");
            case "LogoutRequest":
                return OciXml.Response(request.SessionId, "c:SuccessResponse");
            default:
                return OciXml.Error(request.SessionId, $"[Error 4001] {request.Command} not supported by the fixture");
        }
    }

    private async Task<string?> ReadDocumentAsync(Stream stream)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, _stop.Token);
            if (read == 0)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
            var data = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var end = data.IndexOf(End);
            if (end >= 0)
            {
                return Encoding.Latin1.GetString(data[..(end + End.Length)]);
            }
        }
    }

    private async Task WriteAsync(Stream stream, string text)
    {
        await stream.WriteAsync(Encoding.Latin1.GetBytes(text), _stop.Token);
        await stream.FlushAsync(_stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }
}
