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
public sealed class FakeOciServer : LoopbackListener
{
    private static readonly byte[] End = Encoding.ASCII.GetBytes("</BroadsoftDocument>");
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly SslStreamCertificateContext? _certificate;

    private FakeOciServer(IPAddress address, IReadOnlyDictionary<string, string> users, SslStreamCertificateContext? certificate, string algorithm)
        : base(address)
    {
        _users = users;
        _certificate = certificate;
        Algorithm = algorithm;
    }

    /// <summary>MD5 or SHA: the passwordAlgorithm this server asks for.</summary>
    public string Algorithm { get; }

    public FaultMode Fault { get; set; }

    /// <summary>
    /// Real-like (the default): over TLS only LoginRequest22V5 with the password logs in and a signed 14sp4 gets an
    /// ErrorResponse, as reported against ADPs on 2209. Assumed: 14sp4 everywhere, 22V5 unsupported.
    /// </summary>
    public FakeVariant Variant { get; set; }

    /// <summary>Every command received, as "sessionId command".</summary>
    public ConcurrentQueue<string> Received { get; } = new();

    /// <summary>Raw bytes of every request document, to prove what went (and did not go) over the wire.</summary>
    public ConcurrentQueue<string> RawRequests { get; } = new();

    public static FakeOciServer Start(IReadOnlyDictionary<string, string> users, SslStreamCertificateContext? tlsCertificate = null, IPAddress? address = null, string algorithm = "MD5") =>
        new(address ?? IPAddress.Loopback, users, tlsCertificate, algorithm);

    protected override async Task HandleAsync(Socket connection, CancellationToken stop)
    {
        Stream stream = new NetworkStream(connection, ownsSocket: false);
        try
        {
            if (_certificate is not null)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _certificate }, stop);
                stream = ssl;
            }
            var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            while (!stop.IsCancellationRequested)
            {
                var document = await ReadDocumentAsync(stream, stop);
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
                        await Task.Delay(Timeout.Infinite, stop);
                        return;
                    case FaultMode.Garbage:
                        await WriteAsync(stream, "this is not an OCI document </BroadsoftDocument>", stop);
                        continue;
                    case FaultMode.CloseMidDocument:
                        var full = OciXml.Response(request.SessionId, "AuthenticationResponse", ("nonce", nonce));
                        await WriteAsync(stream, full[..(full.Length / 2)], stop);
                        return;
                }
                await WriteAsync(stream, Answer(request, nonce), stop);
                if (request.Command == "LogoutRequest")
                {
                    return;
                }
            }
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    private string Answer(OciXml.Request request, string nonce)
    {
        var user = request.Fields.GetValueOrDefault("userId", "");
        switch (request.Command)
        {
            case "AuthenticationRequest":
                return OciXml.Response(request.SessionId, "AuthenticationResponse", ("userId", user), ("nonce", nonce), ("passwordAlgorithm", Algorithm));
            case "LoginRequest22V5" when _certificate is not null && Variant == FakeVariant.RealLike:
                return _users.TryGetValue(user, out var plain) && request.Fields.GetValueOrDefault("password") == plain
                    ? OciXml.Response(request.SessionId, "LoginResponse22V5", ("loginType", "User"), ("locale", "en_US"), ("encoding", "ISO-8859-1"))
                    : OciXml.Error(request.SessionId, "[Error 4962] Invalid password");
            case "LoginRequest14sp4" when _certificate is not null && Variant == FakeVariant.RealLike:
                return OciXml.Error(request.SessionId, "[Error 4961] Login failed: signed password login not accepted on this interface");
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

    private static async Task<string?> ReadDocumentAsync(Stream stream, CancellationToken stop)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, stop);
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

    private static async Task WriteAsync(Stream stream, string text, CancellationToken stop)
    {
        await stream.WriteAsync(Encoding.Latin1.GetBytes(text), stop);
        await stream.FlushAsync(stop);
    }
}
