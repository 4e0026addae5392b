using System.Diagnostics;
using System.Text;

namespace RemoteTest.Probes;

/// <summary>One OCI-P login test: where, who, how long each step may take, and the login forms to try in order.</summary>
/// <param name="Logins">
/// LoginRequest14sp4 (AuthenticationRequest for a nonce, then the signed password) and/or LoginRequest22V5 (the
/// password itself: TLS only); the next form is tried only when the server answers the previous with an ErrorResponse.
/// Default: 14sp4 alone.
/// </param>
public sealed record OciLoginRequest(string Host, int Port, bool UseTls, TlsClientPolicy Tls, string UserId, string Password, TimeSpan Timeout,
    IReadOnlyList<string>? Logins = null);

/// <summary>One request of an exchange: what was sent, what came back, how long it took.</summary>
public sealed record OciExchange(string Request, string? Response, double Seconds, string? Error = null);

/// <summary>
/// The outcome of an OCI-P login: <c>ok</c> when the login was accepted, each request with its answer and timing,
/// the password algorithm the server asked for, and for TLS the certificate seen.
/// </summary>
public sealed record OciLoginResult
{
    public required bool Ok { get; init; }

    public string? Error { get; init; }

    public string? ErrorKind { get; init; }

    public required string Transport { get; init; }

    public required int Port { get; init; }

    public string? Address { get; init; }

    public double? ConnectSeconds { get; init; }

    public required double Duration { get; init; }

    public required string SessionId { get; init; }

    public string? PasswordAlgorithm { get; init; }

    public string? LoginType { get; init; }

    public required bool LoggedOut { get; init; }

    public required IReadOnlyList<OciExchange> Requests { get; init; }

    public TlsReport? Tls { get; init; }

    /// <summary>The login form the server accepted (LoginRequest22V5 or LoginRequest14sp4); null when none was.</summary>
    public string? Login { get; init; }
}

/// <summary>
/// The OCI-P client: BroadsoftDocuments over TCP (2208) or TLS (2209), no length prefix, a response ends at
/// <c>&lt;/BroadsoftDocument&gt;</c>. Login in the forms <see cref="OciLoginRequest.Logins"/> names, in order (see
/// <see cref="OciLogin"/>), then LogoutRequest so no session is left open on the server.
/// </summary>
public static class OciPClient
{
    private static readonly byte[] EndMarker = Encoding.ASCII.GetBytes("</BroadsoftDocument>");

    /// <summary>Largest response accepted; a login answer is a few hundred bytes.</summary>
    private const int MaxResponseBytes = 1024 * 1024;

    public static async Task<OciLoginResult> LoginAsync(TargetConnector connector, OciLoginRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var sessionId = OciDocument.NewSessionId();
        var redactor = new SecretRedactor(request.Password, request.UserId);
        var tls = new TlsObservation { TargetHost = request.Host };
        var exchanges = new List<OciExchange>();
        string? address = null;
        double? connectSeconds = null;
        string? algorithm = null;
        string? loginType = null;
        OciLogin.Accepted? accepted = null;
        var loggedOut = false;

        OciLoginResult Result(bool ok, ProbeFailure? failure) => new()
        {
            Ok = ok,
            Error = failure?.Error,
            ErrorKind = failure?.Kind,
            Transport = request.UseTls ? "tls" : "tcp",
            Port = request.Port,
            Address = address,
            ConnectSeconds = connectSeconds,
            Duration = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 4),
            SessionId = sessionId,
            PasswordAlgorithm = algorithm,
            LoginType = loginType,
            LoggedOut = loggedOut,
            Requests = exchanges,
            Tls = request.UseTls ? tls.ToReport() : null,
            Login = accepted?.Form,
        };

        Stream? stream = null;
        try
        {
            var connection = await connector.ConnectTcpAsync(request.Host, request.Port, request.Timeout, cancellationToken);
            address = connection.Endpoint.Address.ToString();
            connectSeconds = ProbeText.SecondsValue(connection.Elapsed);
            stream = request.UseTls
                ? await connector.StartTlsAsync(connection, request.Host, request.Tls, tls, request.Timeout, cancellationToken)
                : connection.GetStream();

            var forms = request.Logins is { Count: > 0 } l ? l : [OciLogin.Signed14sp4];
            var rejections = new List<string>();
            foreach (var form in forms)
            {
                var (login, rejected, asked) = await OciLogin.RunAsync(form, request, (command, fields) =>
                    ExchangeAsync(stream, sessionId, command, fields, request.Timeout, exchanges, redactor, cancellationToken));
                algorithm = asked ?? algorithm;
                if (rejected is not null)
                {
                    rejections.Add(ProbeText.Shorten(redactor.Redact(rejected.Error))!);
                    if (rejected.Kind == ErrorKind.AuthFailed)
                    {
                        // An ErrorResponse: the next form may be the one this server takes (22V5 on TLS, 14sp4 elsewhere).
                        continue;
                    }
                    return Result(false, rejected with { Error = string.Join("; then ", rejections) });
                }
                accepted = login;
                loginType = login!.LoginType;
                break;
            }
            if (accepted is null)
            {
                return Result(false, new ProbeFailure(string.Join("; then ", rejections), ErrorKind.AuthFailed));
            }

            // A failed logout does not undo a good login; it is visible in the requests list.
            try
            {
                var logout = await ExchangeAsync(stream, sessionId, "LogoutRequest", [("userId", request.UserId), ("reason", "Client Logout")],
                    request.Timeout, exchanges, redactor, cancellationToken);
                loggedOut = !logout.IsError;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                exchanges.Add(new OciExchange("LogoutRequest", null, 0, ProbeFailure.From(ex, request.Timeout, tls).Error));
            }
            return Result(true, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Result(false, ProbeFailure.From(ex, request.Timeout, tls));
        }
        finally
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
        }
    }

    /// <summary>Sends one command and reads one response document, each within <paramref name="timeout"/>.</summary>
    private static async Task<OciCommand> ExchangeAsync(Stream stream, string sessionId, string command, (string, string)[] fields,
        TimeSpan timeout, List<OciExchange> exchanges, SecretRedactor redactor, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var limit = Limit(timeout, cancellationToken);
        try
        {
            await stream.WriteAsync(OciDocument.Encoding.GetBytes(OciDocument.Build(sessionId, command, fields)), limit.Token);
            await stream.FlushAsync(limit.Token);
            var text = await ReadDocumentAsync(stream, limit.Token);
            var response = OciDocument.ParseResponse(text);
            exchanges.Add(new OciExchange(command, response.Type, Seconds(started),
                response.IsError ? ProbeText.Shorten(redactor.Redact(response.ErrorText())) : null));
            return response;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            exchanges.Add(new OciExchange(command, null, Seconds(started), ProbeFailure.From(ex, timeout).Error));
            throw;
        }
    }

    /// <summary>Reads bytes until the end tag of a document; a close before it is a protocol error.</summary>
    private static async Task<string> ReadDocumentAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                throw buffer.Length == 0
                    ? new ProtocolViolation("connection closed by the server without a response")
                    : new ProtocolViolation("connection closed by the server in the middle of a response document");
            }
            buffer.Write(chunk, 0, read);
            var data = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
            var end = data.IndexOf(EndMarker);
            if (end >= 0)
            {
                return Decode(data[..(end + EndMarker.Length)]);
            }
            if (buffer.Length > MaxResponseBytes)
            {
                throw new ProtocolViolation($"response larger than {MaxResponseBytes} bytes without </BroadsoftDocument>");
            }
        }
    }

    /// <summary>UTF-8 when the bytes are valid UTF-8, else Latin-1, as the original decoded.</summary>
    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return Encoding.Latin1.GetString(bytes);
        }
    }

    private static CancellationTokenSource Limit(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        return limit;
    }

    private static double Seconds(long started) => Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 4);
}
