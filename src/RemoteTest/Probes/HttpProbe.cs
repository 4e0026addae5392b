using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Serialization;
using System.Xml.Linq;

namespace RemoteTest.Probes;

/// <summary>One HTTP request a probe sends.</summary>
/// <param name="User">With <paramref name="Password"/>: Basic credentials (sent only with this request, never logged).</param>
public sealed record HttpProbeRequest(
    HttpMethod Method,
    Uri Url,
    string? User = null,
    string? Password = null,
    string? Body = null,
    string? ContentType = null,
    IReadOnlyDictionary<string, string>? Headers = null);

/// <summary>What an HTTP check expects of the answer.</summary>
/// <param name="Statuses">Status codes that count as success.</param>
/// <param name="BodyMarker">Text the body must contain, when set.</param>
/// <param name="RedirectWithin">A redirect whose target path starts with this counts as success (a web app sending the browser to its own login page).</param>
/// <param name="ChallengeOk">A 401 offering this authentication scheme (Digest for the DMS) counts as success: deployed, credentials required.</param>
public sealed record HttpExpectation(IReadOnlyList<int> Statuses, string? BodyMarker = null, string? RedirectWithin = null, string? ChallengeOk = null)
{
    public static HttpExpectation Ok200 { get; } = new([200]);
}

/// <summary>
/// One request's outcome with the original's fields (<c>ok</c>, <c>status</c>, <c>error</c>, <c>duration</c>,
/// <c>ttfb</c>, <c>ttfb_total</c>, <c>bytes</c>, <c>url</c>) and more: <c>error_kind</c>, the redirect target,
/// the server's own error summary, the address connected to and the certificate seen.
/// </summary>
public sealed record HttpProbeResult
{
    public required bool Ok { get; init; }

    public int? Status { get; init; }

    public string? Reason { get; init; }

    public string? Error { get; init; }

    public string? ErrorKind { get; init; }

    public required double Duration { get; init; }

    public double? Ttfb { get; init; }

    public double? TtfbTotal { get; init; }

    public long? Bytes { get; init; }

    public required string Url { get; init; }

    public string? Location { get; init; }

    public string? SummaryEnglish { get; init; }

    public string? Address { get; init; }

    public double? ConnectSeconds { get; init; }

    public TlsReport? Tls { get; init; }

    /// <summary>The authentication schemes a 401 offered (WWW-Authenticate), e.g. "Digest".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Challenge { get; init; }

    /// <summary>Why an answer other than the plain success counts as one (a 401 Digest challenge: "up, credentials required").</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Note { get; init; }

    /// <summary>The response body as text (capped), for parsers; never serialized into a result.</summary>
    [JsonIgnore]
    public string? Body { get; init; }
}

/// <summary>
/// HTTP requests through <see cref="TargetConnector"/> with per-request timeout and timings. A session keeps its
/// cookies (an OCI-over-SOAP login lives in its JSESSIONID) and its connection between requests.
/// </summary>
public sealed class HttpProbeSession : IDisposable
{
    private readonly HttpClient _client;
    private readonly TlsObservation _tls = new();
    private readonly SecretRedactor _redactor;
    private readonly long _maxBodyBytes;

    /// <param name="configureHandler">Adds to the handler what one check needs (Digest credentials, a client certificate).</param>
    public HttpProbeSession(TargetConnector connector, TlsClientPolicy tls, SecretRedactor redactor, long maxBodyBytes, bool keepCookies = false,
        Action<SocketsHttpHandler>? configureHandler = null)
    {
        _redactor = redactor;
        _maxBodyBytes = maxBodyBytes;
        var handler = connector.CreateHttpHandler(tls, _tls, keepCookies ? new CookieContainer() : null);
        configureHandler?.Invoke(handler);
        _client = new HttpClient(handler)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("RemoteTest/1.0");
    }

    /// <summary>Sends one request and judges it against <paramref name="expect"/>; failures are values, never exceptions.</summary>
    public async Task<HttpProbeResult> SendAsync(HttpProbeRequest request, HttpExpectation expect, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _tls.TargetHost = request.Url.DnsSafeHost;
        var started = Stopwatch.GetTimestamp();
        double? ttfb = null;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            using var message = Build(request);
            using var response = await _client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            ttfb = Stopwatch.GetElapsedTime(started).TotalSeconds;
            var (body, bytes) = await ReadBodyAsync(response.Content, limit.Token);
            var duration = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return Judge(request, response, body, bytes, duration, ttfb.Value, expect);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var failure = ProbeFailure.From(ex, timeout, _tls);
            return Failed(request, failure, Stopwatch.GetElapsedTime(started).TotalSeconds, ttfb);
        }
    }

    public void Dispose() => _client.Dispose();

    private static HttpRequestMessage Build(HttpProbeRequest request)
    {
        var message = new HttpRequestMessage(request.Method, request.Url);
        if (request.User is not null && request.Password is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{request.User}:{request.Password}")));
        }
        if (request.Body is not null)
        {
            message.Content = new StringContent(request.Body, Encoding.UTF8);
            message.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(request.ContentType ?? "text/plain; charset=utf-8");
        }
        foreach (var (name, value) in request.Headers ?? new Dictionary<string, string>())
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    private async Task<(string Body, long Bytes)> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            total += read;
            if (buffer.Length < _maxBodyBytes)
            {
                buffer.Write(chunk, 0, (int)Math.Min(read, _maxBodyBytes - buffer.Length));
            }
        }
        return (Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), total);
    }

    private HttpProbeResult Judge(HttpProbeRequest request, HttpResponseMessage response, string body, long bytes, double duration, double ttfb, HttpExpectation expect)
    {
        var status = (int)response.StatusCode;
        var reason = response.ReasonPhrase;
        var location = response.Headers.Location is { } l ? _redactor.Redact(new Uri(request.Url, l).ToString()) : null;
        // Redact before shortening: a cut could leave half a secret that no longer matches.
        var summary = ProbeText.Shorten(_redactor.Redact(ErrorSummary(body)));
        string? error = null;
        string? kind = null;
        string? note = null;
        var challenge = response.Headers.WwwAuthenticate.Count == 0 ? null : string.Join(", ", response.Headers.WwwAuthenticate.Select(h => h.Scheme).Distinct());
        var challenged = status == 401 && expect.ChallengeOk is { } scheme &&
            response.Headers.WwwAuthenticate.Any(h => string.Equals(h.Scheme, scheme, StringComparison.OrdinalIgnoreCase));
        var redirectWithin = status is >= 300 and < 400 && expect.RedirectWithin is { } prefix && response.Headers.Location is { } target &&
            new Uri(request.Url, target).AbsolutePath.StartsWith(prefix, StringComparison.Ordinal);
        if (challenged)
        {
            note = $"up: 401 with a {expect.ChallengeOk} challenge, credentials required (give them to check a login)";
        }
        else if (expect.Statuses.Contains(status) || redirectWithin)
        {
            if (!redirectWithin && expect.BodyMarker is { } marker && !body.Contains(marker, StringComparison.Ordinal))
            {
                (error, kind) = ($"{status} {reason}, but the response lacks the expected marker '{marker}'", ErrorKind.ProtocolError);
            }
        }
        else
        {
            var said = summary is null ? "" : $": {summary}";
            (error, kind) = status switch
            {
                401 => ($"401 Unauthorized: credentials rejected{said}", ErrorKind.AuthFailed),
                403 => ($"403 Forbidden: access denied{said}", ErrorKind.AuthFailed),
                >= 300 and < 400 => ($"{status} {reason}: redirected to {location ?? "(no Location header)"} (not followed)", ErrorKind.HttpStatus),
                // A success status where the application answers otherwise (BWCallSettingsWeb's 400): say what was expected.
                >= 200 and < 300 => ($"{status} {reason}, expected {string.Join(" or ", expect.Statuses)}{said}", ErrorKind.HttpStatus),
                _ => ($"{status} {reason}{said}", ErrorKind.HttpStatus),
            };
        }
        return new HttpProbeResult
        {
            Ok = error is null,
            Status = status,
            Reason = reason,
            Error = error,
            ErrorKind = kind,
            Duration = Round(duration),
            Ttfb = Round(ttfb),
            TtfbTotal = Round(ttfb),
            Bytes = bytes,
            Url = _redactor.Redact(request.Url.ToString())!,
            Location = location,
            SummaryEnglish = summary,
            Address = _tls.Address,
            ConnectSeconds = _tls.ConnectTime is { } c ? Round(c.TotalSeconds) : null,
            Tls = request.Url.Scheme == Uri.UriSchemeHttps ? _tls.ToReport() : null,
            Body = body,
            Challenge = challenge,
            Note = note,
        };
    }

    private HttpProbeResult Failed(HttpProbeRequest request, ProbeFailure failure, double duration, double? ttfb) =>
        new()
        {
            Ok = false,
            Error = failure.Error,
            ErrorKind = failure.Kind,
            Duration = Round(duration),
            Ttfb = ttfb is null ? null : Round(ttfb.Value),
            Url = _redactor.Redact(request.Url.ToString())!,
            Address = _tls.Address,
            ConnectSeconds = _tls.ConnectTime is { } c ? Round(c.TotalSeconds) : null,
            Tls = request.Url.Scheme == Uri.UriSchemeHttps ? _tls.ToReport() : null,
        };

    /// <summary>The English summary of a BroadWorks error body (Xsi <c>ErrorInfo</c>), when the body is one.</summary>
    private static string? ErrorSummary(string body)
    {
        if (!body.Contains("summary", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            var root = SafeXml.Parse(body).Root;
            var text = root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "summaryEnglish")?.Value
                ?? root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "summary")?.Value;
            return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    private static double Round(double seconds) => Math.Round(seconds, 4);
}
