using System.Diagnostics;
using System.Xml.Linq;

namespace RemoteTest.Probes;

/// <summary>One OCI-over-SOAP test: the service URL, the user, and the per-request timeout.</summary>
public sealed record OciSoapRequest(Uri Url, TlsClientPolicy Tls, string UserId, string Password, TimeSpan Timeout, long MaxBodyBytes);

/// <summary>
/// The outcome of an OCI-over-SOAP test with the original's details (<c>userId</c>, <c>phoneNumber</c>) and each
/// request's HTTP status, OCI answer and timing.
/// </summary>
public sealed record OciSoapResult(
    bool Ok,
    string? Error,
    string? ErrorKind,
    [property: System.Text.Json.Serialization.JsonPropertyName("userId")] string? UserId,
    [property: System.Text.Json.Serialization.JsonPropertyName("phoneNumber")] string? PhoneNumber,
    string Url,
    string SessionId,
    bool LoggedOut,
    double Duration,
    IReadOnlyList<OciSoapExchange> Requests);

/// <summary>One SOAP request: the OCI command, the HTTP status, the OCI response type and the timing.</summary>
public sealed record OciSoapExchange(string Request, int? Status, string? Response, double Seconds, string? Error);

/// <summary>
/// OCI over SOAP with a plain HTTP client and XML: each OCI document is the string argument of
/// <c>processOCIMessage</c> at <c>/webservice/services/ProvisioningService</c> (an Axis RPC/encoded service), and the
/// answer comes back in <c>processOCIMessageReturn</c>. The login lives in the HTTP session (JSESSIONID cookie), so
/// all requests of one test share one <see cref="HttpProbeSession"/>.
/// </summary>
public static class OciSoapClient
{
    private const string SoapEnvelope = "http://schemas.xmlsoap.org/soap/envelope/";
    private const string SoapEncoding = "http://schemas.xmlsoap.org/soap/encoding/";

    public static async Task<OciSoapResult> RunAsync(TargetConnector connector, OciSoapRequest request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var sessionId = OciDocument.NewSessionId();
        var redactor = new SecretRedactor(request.Password, request.UserId);
        var exchanges = new List<OciSoapExchange>();
        using var session = new HttpProbeSession(connector, request.Tls, redactor, request.MaxBodyBytes, keepCookies: true);
        var loggedOut = false;

        OciSoapResult Done(bool ok, string? error, string? kind, string? userId = null, string? phone = null) =>
            new(ok, error, kind, userId, phone, request.Url.ToString(), sessionId, loggedOut, Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 4), exchanges);

        var (login, loginFailure) = await CallAsync(session, request, sessionId, "LoginRequest22V5",
            [("userId", request.UserId), ("password", request.Password)], exchanges, redactor, cancellationToken);
        if (login is null)
        {
            return Done(false, $"Login error: {loginFailure!.Error}", loginFailure.Kind);
        }
        if (login.IsError)
        {
            return Done(false, $"Login failed: {ProbeText.Shorten(redactor.Redact(login.ErrorText()))}", ErrorKind.AuthFailed);
        }

        var (user, userFailure) = await CallAsync(session, request, sessionId, "UserGetRequest23", [("userId", request.UserId)], exchanges, redactor, cancellationToken);
        OciSoapResult result;
        if (user is null)
        {
            result = Done(false, $"UserGet error: {userFailure!.Error}", userFailure.Kind);
        }
        else if (user.IsError)
        {
            result = Done(false, $"UserGetRequest23 failed: {ProbeText.Shorten(redactor.Redact(user.ErrorText()))}", ErrorKind.ProtocolError);
        }
        else
        {
            result = Done(true, null, null, redactor.Redact(user.Field("userId") ?? request.UserId), redactor.Redact(user.Field("phoneNumber")));
        }

        var (logout, _) = await CallAsync(session, request, sessionId, "LogoutRequest", [("userId", request.UserId), ("reason", "Client Logout")],
            exchanges, redactor, cancellationToken);
        loggedOut = logout is { IsError: false };
        return result with { LoggedOut = loggedOut, Duration = Math.Round(Stopwatch.GetElapsedTime(started).TotalSeconds, 4) };
    }

    /// <summary>One processOCIMessage call; a transport or SOAP failure comes back as a failure, an OCI answer as a command.</summary>
    private static async Task<(OciCommand? Command, ProbeFailure? Failure)> CallAsync(HttpProbeSession session, OciSoapRequest request, string sessionId,
        string command, (string, string)[] fields, List<OciSoapExchange> exchanges, SecretRedactor redactor, CancellationToken cancellationToken)
    {
        var body = Envelope(OciDocument.Build(sessionId, command, fields));
        var http = await session.SendAsync(
            new HttpProbeRequest(HttpMethod.Post, request.Url, Body: body, ContentType: "text/xml; charset=utf-8",
                Headers: new Dictionary<string, string> { ["SOAPAction"] = "\"\"" }),
            HttpExpectation.Ok200, request.Timeout, cancellationToken);
        ProbeFailure? failure = null;
        OciCommand? answer = null;
        if (http.Status is null)
        {
            failure = new ProbeFailure(http.Error!, http.ErrorKind!);
        }
        else
        {
            try
            {
                var returned = ReturnValue(http.Body ?? "", out var fault);
                if (returned is not null)
                {
                    answer = OciDocument.ParseResponse(returned);
                }
                else
                {
                    failure = fault is not null
                        ? new ProbeFailure($"SOAP fault{(http.Ok ? "" : $" (HTTP {http.Status})")}: {ProbeText.Shorten(redactor.Redact(fault))}", http.Ok ? ErrorKind.ProtocolError : ErrorKind.HttpStatus)
                        : http.Ok
                            ? new ProbeFailure("SOAP response has no processOCIMessageReturn", ErrorKind.ProtocolError)
                            : new ProbeFailure(http.Error!, http.ErrorKind!);
                }
            }
            catch (Exception ex) when (ex is System.Xml.XmlException or ProtocolViolation)
            {
                failure = http.Ok ? ProbeFailure.From(ex, request.Timeout) : new ProbeFailure(http.Error!, http.ErrorKind!);
            }
        }
        exchanges.Add(new OciSoapExchange(command, http.Status, answer?.Type, http.Duration,
            failure?.Error ?? (answer is { IsError: true } ? ProbeText.Shorten(redactor.Redact(answer.ErrorText())) : null)));
        return (answer, failure);
    }

    private static string Envelope(string ociDocument)
    {
        XNamespace soapenv = SoapEnvelope;
        XNamespace xsi = OciDocument.XsiNamespace;
        XNamespace soapenc = SoapEncoding;
        var envelope = new XElement(soapenv + "Envelope",
            new XAttribute(XNamespace.Xmlns + "soapenv", SoapEnvelope),
            new XAttribute(XNamespace.Xmlns + "xsi", OciDocument.XsiNamespace),
            new XAttribute(XNamespace.Xmlns + "xsd", "http://www.w3.org/2001/XMLSchema"),
            new XAttribute(XNamespace.Xmlns + "soapenc", SoapEncoding),
            new XElement(soapenv + "Body",
                new XElement(XName.Get("processOCIMessage", "urn:com:broadsoft:webservice"),
                    new XAttribute(soapenv + "encodingStyle", SoapEncoding),
                    new XElement("arg0", new XAttribute(xsi + "type", "soapenc:string"), ociDocument))));
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + envelope.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>The OCI document inside a SOAP answer, or null with the fault string when it is a fault.</summary>
    private static string? ReturnValue(string soap, out string? fault)
    {
        var root = SafeXml.Parse(soap).Root ?? throw new ProtocolViolation("empty SOAP response");
        var returned = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "processOCIMessageReturn");
        fault = root.Descendants().FirstOrDefault(e => e.Name.LocalName == "faultstring")?.Value;
        return returned?.Value;
    }
}
