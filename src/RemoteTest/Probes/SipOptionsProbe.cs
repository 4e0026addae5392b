using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace RemoteTest.Probes;

/// <summary>The SIP transports an OPTIONS ping can take.</summary>
public enum SipTransport
{
    Udp,
    Tcp,
    Tls,
}

/// <summary>One SIP OPTIONS ping: where, over what, and how long to wait for the final answer.</summary>
public sealed record SipOptionsRequest(string Host, int Port, SipTransport Transport, TlsClientPolicy Tls, TimeSpan Timeout)
{
    /// <summary>
    /// The SIP domain when <see cref="Host"/> is one of its resolved addresses (RFC 3263): the Request-URI's host and
    /// the name the TLS certificate is checked against (RFC 5922), instead of the address.
    /// </summary>
    public string? Domain { get; init; }

    public string UriHost => Domain ?? Host;
}

/// <summary>
/// The answer to a SIP OPTIONS: the status line, the peer's <c>Server</c>/<c>User-Agent</c>, the round-trip time
/// and, over TLS, the certificate. <c>ok</c> when a final response below 500 arrived: a 4xx still proves a SIP stack
/// that parses and answers (many SBCs refuse OPTIONS from unknown sources with 403 or 404); 5xx/6xx say it is not serving.
/// </summary>
public sealed record SipOptionsResult
{
    public required bool Ok { get; init; }

    public string? Error { get; init; }

    public string? ErrorKind { get; init; }

    public required string Transport { get; init; }

    public required int Port { get; init; }

    public string? Address { get; init; }

    public int? Status { get; init; }

    public string? Reason { get; init; }

    public string? StatusLine { get; init; }

    public string? Server { get; init; }

    public string? UserAgent { get; init; }

    public string? Allow { get; init; }

    public double? RttMs { get; init; }

    public required double Duration { get; init; }

    public required int Sent { get; init; }

    public TlsReport? Tls { get; init; }
}

/// <summary>SIP OPTIONS over UDP (with RFC 3261 retransmissions), TCP and TLS.</summary>
public static class SipOptionsProbe
{
    /// <summary>RFC 3261 timer T1: the first UDP retransmission interval, doubled each time up to T2.</summary>
    private static readonly TimeSpan T1 = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan T2 = TimeSpan.FromSeconds(4);
    private const int MaxMessageBytes = 64 * 1024;

    public static async Task<SipOptionsResult> PingAsync(TargetConnector connector, SipOptionsRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var tls = new TlsObservation { TargetHost = request.UriHost };
        string? address = null;
        var sent = new StrongBox<int>(0);
        double? rtt = null;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(request.Timeout);

        SipOptionsResult Result(SipResponse? response, ProbeFailure? failure) => new()
        {
            Ok = failure is null,
            Error = failure?.Error,
            ErrorKind = failure?.Kind,
            Transport = request.Transport.ToString().ToLowerInvariant(),
            Port = request.Port,
            Address = address,
            Status = response?.Status,
            Reason = response?.Reason,
            StatusLine = response?.StatusLine,
            Server = response?.Header("Server"),
            UserAgent = response?.Header("User-Agent"),
            Allow = response?.Header("Allow"),
            RttMs = rtt,
            Duration = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 4),
            Sent = sent.Value,
            Tls = request.Transport == SipTransport.Tls ? tls.ToReport() : null,
        };

        try
        {
            SipResponse response;
            var callId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
            if (request.Transport == SipTransport.Udp)
            {
                using var socket = await connector.ConnectUdpAsync(request.Host, request.Port, request.Timeout, limit.Token);
                address = ((IPEndPoint)socket.RemoteEndPoint!).Address.ToString();
                var message = Encoding.UTF8.GetBytes(BuildOptions(request, (IPEndPoint)socket.LocalEndPoint!, callId));
                (response, rtt) = await UdpExchangeAsync(socket, message, callId, sent, limit.Token);
            }
            else
            {
                var connection = await connector.ConnectTcpAsync(request.Host, request.Port, request.Timeout, limit.Token);
                address = connection.Endpoint.Address.ToString();
                var local = (IPEndPoint)connection.Socket!.LocalEndPoint!;
                await using Stream stream = request.Transport == SipTransport.Tls
                    ? await connector.StartTlsAsync(connection, request.UriHost, request.Tls, tls, request.Timeout, limit.Token)
                    : connection.GetStream();
                var message = Encoding.UTF8.GetBytes(BuildOptions(request, local, callId));
                var sentAt = Stopwatch.GetTimestamp();
                await stream.WriteAsync(message, limit.Token);
                sent.Value = 1;
                response = await ReadFinalAsync(stream, callId, limit.Token);
                rtt = Math.Round(Stopwatch.GetElapsedTime(sentAt).TotalMilliseconds, 2);
            }
            return response.Status >= 500
                ? Result(response, new ProbeFailure($"SIP {response.Status} {response.Reason}", ErrorKind.SipStatus))
                : Result(response, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Result(null, ProbeFailure.From(ex, request.Timeout, tls));
        }
    }

    private static string BuildOptions(SipOptionsRequest request, IPEndPoint local, string callId)
    {
        var transport = request.Transport.ToString().ToUpperInvariant();
        var host = request.UriHost.Contains(':') && !request.UriHost.StartsWith('[') ? $"[{request.UriHost}]" : request.UriHost;
        var localHost = local.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{local.Address}]" : local.Address.ToString();
        var branch = "z9hG4bK" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var tag = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var param = request.Transport == SipTransport.Udp ? "" : $";transport={transport.ToLowerInvariant()}";
        var port = request.Port.ToString(CultureInfo.InvariantCulture);
        var localPort = local.Port.ToString(CultureInfo.InvariantCulture);
        return
            $"OPTIONS sip:{host}:{port}{param} SIP/2.0\r\n" +
            $"Via: SIP/2.0/{transport} {localHost}:{localPort};branch={branch};rport\r\n" +
            "Max-Forwards: 70\r\n" +
            $"From: <sip:remotetest@{localHost}>;tag={tag}\r\n" +
            $"To: <sip:{host}:{port}>\r\n" +
            $"Call-ID: {callId}@remotetest\r\n" +
            "CSeq: 1 OPTIONS\r\n" +
            $"Contact: <sip:remotetest@{localHost}:{localPort}{param}>\r\n" +
            "Accept: application/sdp\r\n" +
            "User-Agent: RemoteTest/1.0\r\n" +
            "Content-Length: 0\r\n\r\n";
    }

    /// <summary>
    /// Sends and retransmits (T1, doubling to T2) until a final response with our Call-ID arrives. The retransmissions
    /// are due at fixed times from the first send (0, T1, 3·T1, 7·T1, …: RFC 3261's timer A), so a busy machine's late
    /// wake-ups do not add up and push the last one past the timeout.
    /// </summary>
    private static async Task<(SipResponse Response, double Rtt)> UdpExchangeAsync(Socket socket, byte[] message, string callId, StrongBox<int> sent, CancellationToken cancellationToken)
    {
        var buffer = new byte[MaxMessageBytes];
        var interval = T1;
        var due = TimeSpan.Zero;
        var firstSent = Stopwatch.GetTimestamp();
        while (true)
        {
            await socket.SendAsync(message, cancellationToken);
            sent.Value++;
            due += interval;
            var untilNext = due - Stopwatch.GetElapsedTime(firstSent);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(untilNext > TimeSpan.Zero ? untilNext : TimeSpan.Zero);
            try
            {
                while (true)
                {
                    var read = await socket.ReceiveAsync(buffer, wait.Token);
                    var response = SipResponse.Parse(Encoding.UTF8.GetString(buffer, 0, read));
                    if (response.CallId?.StartsWith(callId, StringComparison.Ordinal) == true && response.Status >= 200)
                    {
                        return (response, Math.Round(Stopwatch.GetElapsedTime(firstSent).TotalMilliseconds, 2));
                    }
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                interval = interval * 2 > T2 ? T2 : interval * 2;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // ICMP port unreachable on a connected UDP socket: nothing listens there.
                throw new SocketException((int)SocketError.ConnectionRefused);
            }
        }
    }

    /// <summary>Reads messages from a stream until the final response (provisional 1xx are skipped).</summary>
    private static async Task<SipResponse> ReadFinalAsync(Stream stream, string callId, CancellationToken cancellationToken)
    {
        var pending = new StringBuilder();
        var chunk = new byte[8192];
        while (true)
        {
            var text = pending.ToString();
            var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (headerEnd >= 0)
            {
                var response = SipResponse.Parse(text[..headerEnd]);
                var length = int.TryParse(response.Header("Content-Length") ?? response.Header("l"), out var l) ? l : 0;
                if (text.Length >= headerEnd + 4 + length)
                {
                    pending.Remove(0, headerEnd + 4 + length);
                    if (response.Status >= 200)
                    {
                        return response;
                    }
                    continue;
                }
            }
            if (pending.Length > MaxMessageBytes)
            {
                throw new ProtocolViolation($"SIP message larger than {MaxMessageBytes} bytes");
            }
            var read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                throw new ProtocolViolation(pending.Length == 0
                    ? "connection closed by the server without a SIP response"
                    : "connection closed by the server in the middle of a SIP response");
            }
            pending.Append(Encoding.UTF8.GetString(chunk, 0, read));
        }
    }
}

/// <summary>A parsed SIP response: status line and headers (compact forms understood).</summary>
internal sealed class SipResponse
{
    private static readonly Dictionary<string, string> Compact = new(StringComparer.OrdinalIgnoreCase)
    {
        ["i"] = "Call-ID",
        ["l"] = "Content-Length",
        ["f"] = "From",
        ["t"] = "To",
        ["v"] = "Via",
        ["m"] = "Contact",
    };

    private readonly Dictionary<string, string> _headers = new(StringComparer.OrdinalIgnoreCase);

    public required string StatusLine { get; init; }
    public int Status { get; init; }
    public string Reason { get; init; } = "";
    public string? CallId => Header("Call-ID");

    public string? Header(string name) => _headers.GetValueOrDefault(name);

    /// <exception cref="ProtocolViolation">Not a SIP response.</exception>
    public static SipResponse Parse(string text)
    {
        var lines = text.Split("\r\n");
        var first = lines[0];
        var parts = first.Split(' ', 3);
        if (parts.Length < 2 || parts[0] != "SIP/2.0" || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var status) || status is < 100 or > 699)
        {
            throw new ProtocolViolation("the answer is not a SIP response");
        }
        var response = new SipResponse { StatusLine = first.Length > 200 ? first[..200] : first, Status = status, Reason = parts.Length > 2 ? parts[2] : "" };
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }
            var name = line[..colon].Trim();
            name = Compact.GetValueOrDefault(name, name);
            response._headers.TryAdd(name, line[(colon + 1)..].Trim());
        }
        return response;
    }
}
