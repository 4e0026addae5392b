using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace RemoteTest.Probes;

/// <summary>One Xsi-Events channel check: where to open it, how to name the delete URL, who opens it, and its limits.</summary>
/// <param name="DeleteUrl">The URL that deletes a channel, from its channelId.</param>
/// <param name="ExpiresSeconds">The channel's lifetime should the delete not arrive.</param>
public sealed record XsiChannelRequest(
    Uri OpenUrl,
    Func<string, Uri> DeleteUrl,
    string User,
    string Password,
    int ExpiresSeconds,
    TlsClientPolicy Tls,
    TimeSpan Timeout,
    long MaxBytes);

/// <summary>
/// An Xsi-Events channel opened and deleted: <c>ok</c> when the server streamed a <c>&lt;Channel&gt;</c> with a
/// channelId; <c>setup_seconds</c> from sending the request to that element complete; the delete's outcome.
/// </summary>
public sealed record XsiChannelResult
{
    public required bool Ok { get; init; }

    public string? Error { get; init; }

    public string? ErrorKind { get; init; }

    public int? Status { get; init; }

    public required string Url { get; init; }

    public string? ChannelId { get; init; }

    public double? SetupSeconds { get; init; }

    public required double Duration { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SummaryEnglish { get; init; }

    public required bool Deleted { get; init; }

    public int? DeleteStatus { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? DeleteError { get; init; }

    public string? Address { get; init; }

    public double? ConnectSeconds { get; init; }

    public TlsReport? Tls { get; init; }
}

/// <summary>
/// Opens an Xsi-Events event channel the way Xsi-Events clients do (POST a <c>&lt;Channel&gt;</c> to the async
/// context with Basic authentication), reads the streamed, chunked answer only up to the first complete
/// <c>&lt;Channel&gt;</c> element (the stream stays open for events as long as the channel lives, so waiting for the
/// end of the body would wait for the expiry), then always deletes the channel it got.
/// </summary>
public static class XsiEventsChannel
{
    public const string XsiNamespace = "http://schema.broadsoft.com/xsi";

    /// <summary>The end of the first element: &lt;/Channel&gt; with or without a prefix.</summary>
    private static readonly Regex ChannelEnd = new(@"</(?:[A-Za-z_][\w.-]*:)?Channel\s*>", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>A channel whose element says so: channel set ids are ours, so two checks never share one.</summary>
    public static string NewChannelSetId() => "remotetest-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    public static async Task<XsiChannelResult> OpenAndDeleteAsync(TargetConnector connector, XsiChannelRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var redactor = new SecretRedactor(request.Password, request.User);
        var observation = new TlsObservation { TargetHost = request.OpenUrl.DnsSafeHost };
        using var client = new HttpClient(connector.CreateHttpHandler(request.Tls, observation)) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("RemoteTest/1.0");
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{request.User}:{request.Password}")));

        int? status = null;
        string? channelId = null;
        double? setup = null;
        string? summary = null;
        ProbeFailure? failure = null;
        try
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(request.Timeout);
            using var message = new HttpRequestMessage(HttpMethod.Post, request.OpenUrl)
            {
                Content = new StringContent(ChannelDocument(NewChannelSetId(), request.ExpiresSeconds), Encoding.UTF8, "application/xml"),
            };
            message.Headers.Authorization = basic;
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            status = (int)response.StatusCode;
            await using var body = await response.Content.ReadAsStreamAsync(limit.Token);
            var text = await ReadFirstChannelAsync(body, request.MaxBytes, limit.Token);
            if (status != 200)
            {
                summary = ProbeText.Shorten(redactor.Redact(ErrorSummary(text.Text)));
                var said = summary is null ? "" : $": {summary}";
                failure = status switch
                {
                    401 => new ProbeFailure($"401 Unauthorized: credentials rejected{said}", ErrorKind.AuthFailed),
                    403 => new ProbeFailure($"403 Forbidden: access denied{said}", ErrorKind.AuthFailed),
                    _ => new ProbeFailure($"{status} {response.ReasonPhrase}{said}", ErrorKind.HttpStatus),
                };
            }
            else if (text.Channel is null)
            {
                failure = new ProbeFailure(text.Ended
                    ? "200, but the stream ended without a complete <Channel> element"
                    : $"200, but no complete <Channel> element in the first {request.MaxBytes} bytes", ErrorKind.ProtocolError);
            }
            else
            {
                channelId = ChannelId(text.Channel);
                setup = Round(Stopwatch.GetElapsedTime(started).TotalSeconds);
                if (channelId is null)
                {
                    failure = new ProbeFailure("200, but the <Channel> element has no channelId", ErrorKind.ProtocolError);
                }
            }
            // Leaving the using ends the streamed answer here: the connection closes, nothing waits for the body's end.
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            failure = ex is OperationCanceledException && status == 200
                ? new ProbeFailure($"200, but no complete <Channel> element within {ProbeText.Seconds(request.Timeout)} s", ErrorKind.Timeout)
                : ProbeFailure.From(ex, request.Timeout, observation);
        }

        var (deleted, deleteStatus, deleteError) = channelId is null
            ? (false, (int?)null, (string?)null)
            : await DeleteAsync(client, request.DeleteUrl(channelId), basic, request.Timeout);

        return new XsiChannelResult
        {
            Ok = failure is null,
            Error = failure is null ? null : redactor.Redact(failure.Error),
            ErrorKind = failure?.Kind,
            Status = status,
            Url = redactor.Redact(request.OpenUrl.ToString())!,
            ChannelId = channelId,
            SetupSeconds = setup,
            Duration = Round(Stopwatch.GetElapsedTime(started).TotalSeconds),
            SummaryEnglish = summary,
            Deleted = deleted,
            DeleteStatus = deleteStatus,
            DeleteError = deleteError,
            Address = observation.Address,
            ConnectSeconds = observation.ConnectTime is { } c ? Round(c.TotalSeconds) : null,
            Tls = request.OpenUrl.Scheme == Uri.UriSchemeHttps ? observation.ToReport() : null,
        };
    }

    /// <summary>The request body: channel set id, priority 1, weight 50, expires, as Xsi-Events clients send it.</summary>
    public static string ChannelDocument(string channelSetId, int expiresSeconds)
    {
        XNamespace xsi = XsiNamespace;
        var channel = new XElement(xsi + "Channel",
            new XElement(xsi + "channelSetId", channelSetId),
            new XElement(xsi + "priority", 1),
            new XElement(xsi + "weight", 50),
            new XElement(xsi + "expires", expiresSeconds));
        return new XDocument(new XDeclaration("1.0", "UTF-8", null), channel).Declaration + channel.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>What was read: the first complete &lt;Channel&gt; document if any, the text read (for error bodies), whether the stream ended.</summary>
    private sealed record FirstPart(string Text, string? Channel, bool Ended);

    /// <summary>
    /// Reads until the first &lt;/Channel&gt; (then stops: the rest of the stream is events and heartbeats for as long
    /// as the channel lives), until the stream ends (an error body), or until <paramref name="maxBytes"/>.
    /// </summary>
    private static async Task<FirstPart> ReadFirstChannelAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[8 * 1024];
        while (buffer.Length < maxBytes)
        {
            var read = await body.ReadAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, maxBytes - buffer.Length)), cancellationToken);
            if (read == 0)
            {
                var all = Decode(buffer);
                return new FirstPart(all, FindChannel(all), true);
            }
            buffer.Write(chunk, 0, read);
            var text = Decode(buffer);
            if (FindChannel(text) is { } channel)
            {
                return new FirstPart(text, channel, false);
            }
        }
        return new FirstPart(Decode(buffer), null, false);
    }

    private static string Decode(MemoryStream buffer) => Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);

    /// <summary>The text from the start through the first &lt;/Channel&gt;, or null when it has not arrived yet.</summary>
    private static string? FindChannel(string text)
    {
        var end = ChannelEnd.Match(text);
        return end.Success ? text[..(end.Index + end.Length)] : null;
    }

    private static string? ChannelId(string document)
    {
        try
        {
            var root = SafeParse(document.TrimStart('\uFEFF', ' ', '\r', '\n', '\t')).Root;
            if (root?.Name.LocalName != "Channel")
            {
                return null;
            }
            var id = root.Elements().FirstOrDefault(e => e.Name.LocalName == "channelId")?.Value.Trim();
            return string.IsNullOrEmpty(id) ? null : id;
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    /// <summary>
    /// Deletes the channel with its own timeout, also when the task is being cancelled: a channel left open holds a
    /// slot on the server until it expires.
    /// </summary>
    private static async Task<(bool, int?, string?)> DeleteAsync(HttpClient client, Uri url, AuthenticationHeaderValue basic, TimeSpan timeout)
    {
        using var limit = new CancellationTokenSource(timeout);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Delete, url);
            message.Headers.Authorization = basic;
            using var response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, limit.Token);
            var code = (int)response.StatusCode;
            return (code is >= 200 and < 300, code, code is >= 200 and < 300 ? null : $"{code} {response.ReasonPhrase}");
        }
        catch (Exception ex)
        {
            return (false, null, ProbeFailure.From(ex, timeout).Error);
        }
    }

    private static string? ErrorSummary(string body)
    {
        if (!body.Contains("summary", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            var root = SafeParse(body).Root;
            var text = root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "summaryEnglish")?.Value
                ?? root?.Descendants().FirstOrDefault(e => e.Name.LocalName == "summary")?.Value;
            return string.IsNullOrWhiteSpace(text) ? null : text.Trim();
        }
        catch (System.Xml.XmlException)
        {
            return null;
        }
    }

    /// <summary>Server XML without DTDs (no entity expansion from a hostile server) and without resolving anything.</summary>
    private static XDocument SafeParse(string text)
    {
        using var reader = System.Xml.XmlReader.Create(new StringReader(text),
            new System.Xml.XmlReaderSettings { DtdProcessing = System.Xml.DtdProcessing.Prohibit, XmlResolver = null });
        return XDocument.Load(reader);
    }

    private static double Round(double seconds) => Math.Round(seconds, 4);
}
