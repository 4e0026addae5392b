using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>
/// A fake ADP web tier on loopback, http and https: OCI over SOAP (login kept in a JSESSIONID session), Xsi-Actions
/// and Xsi-Events with Basic authentication, the Authentication Service token, and the start pages of the catalog's
/// web applications. <see cref="Fault"/> (everywhere) and <see cref="PathFaults"/> (per path prefix) make it misbehave.
/// </summary>
public sealed class FakeBroadWorksWeb : IAsyncDisposable
{
    private const string SoapEnv = "http://schemas.xmlsoap.org/soap/envelope/";
    private readonly WebApplication _app;
    private readonly IReadOnlyDictionary<string, string> _users;
    private readonly ConcurrentDictionary<string, string> _sessions = new();

    private FakeBroadWorksWeb(WebApplication app, IReadOnlyDictionary<string, string> users)
    {
        _app = app;
        _users = users;
    }

    public int HttpPort { get; private set; }
    public int HttpsPort { get; private set; }

    /// <summary>The mutual-TLS interface: https that requires <see cref="FixtureCertificates.Client"/> as client certificate.</summary>
    public int MtlsPort { get; private set; }

    public FaultMode Fault { get; set; }

    /// <summary>Real-like (the default) or as the first catalog assumed; see <see cref="FakeVariant"/>.</summary>
    public FakeVariant Variant { get; set; }

    /// <summary>DMS device credentials (user → password) the real-like Digest check accepts.</summary>
    public ConcurrentDictionary<string, string> DmsUsers { get; } = new();

    /// <summary>Xsi-Events channels opened and not deleted yet (channelId → user).</summary>
    public ConcurrentDictionary<string, string> OpenChannels { get; } = new();

    /// <summary>Xsi-Events channels opened since the start.</summary>
    public int ChannelsOpened => _channelsOpened;

    private int _channelsOpened;

    /// <summary>Faults for paths starting with a prefix (e.g. "/com.broadsoft.xsi-events"), over <see cref="Fault"/>.</summary>
    public ConcurrentDictionary<string, FaultMode> PathFaults { get; } = new();

    /// <summary>"METHOD path" of every request.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    /// <summary>"sessionId command" of every OCI command received over SOAP.</summary>
    public ConcurrentQueue<string> SoapCommands { get; } = new();

    public static async Task<FakeBroadWorksWeb> StartAsync(IReadOnlyDictionary<string, string> users, X509Certificate2 certificate, X509Certificate2 intermediate, IPAddress? address = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var client = FixtureCertificates.Instance.Client.Thumbprint;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address ?? IPAddress.Loopback, 0);
            k.Listen(address ?? IPAddress.Loopback, 0, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                https.ServerCertificateChain = new X509Certificate2Collection(intermediate);
            }));
            // Third listener: the mutual-TLS interface, as Webex requires for the Authentication Service.
            k.Listen(address ?? IPAddress.Loopback, 0, listen => listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                https.ServerCertificateChain = new X509Certificate2Collection(intermediate);
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (presented, _, _) => presented.Thumbprint == client;
            }));
        });
        var app = builder.Build();
        var web = new FakeBroadWorksWeb(app, users);
        app.Run(web.HandleAsync);
        await app.StartAsync();
        foreach (var url in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
        {
            var uri = new Uri(url);
            if (uri.Scheme == "https" && web.HttpsPort == 0)
            {
                web.HttpsPort = uri.Port;
            }
            else if (uri.Scheme == "https")
            {
                web.MtlsPort = uri.Port;
            }
            else
            {
                web.HttpPort = uri.Port;
            }
        }
        return web;
    }

    private async Task HandleAsync(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "/";
        Requests.Enqueue($"{http.Request.Method} {path}");
        var fault = PathFaults.Where(p => path.StartsWith(p.Key, StringComparison.Ordinal)).Select(p => (FaultMode?)p.Value).FirstOrDefault() ?? Fault;
        var soap = path == "/webservice/services/ProvisioningService";
        string? body = null;
        if (http.Request.ContentLength is > 0 || http.Request.Method == "POST")
        {
            body = await new StreamReader(http.Request.Body).ReadToEndAsync();
        }

        switch (fault)
        {
            case FaultMode.NeverAnswer:
                await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { });
                return;
            case FaultMode.Status500:
                await Write(http, 500, soap ? SoapFault("Internal server error") : "internal error", "text/xml");
                return;
            case FaultMode.Garbage:
                await Write(http, 200, "<<< this is not xml", "text/xml");
                return;
            case FaultMode.NotFound:
                await Write(http, 404, "<html><body>Not Found</body></html>", "text/html");
                return;
            case FaultMode.Redirect:
                http.Response.Headers.Location = "https://127.0.0.1:1/moved/";
                await Write(http, 302, "", "text/html");
                return;
            case FaultMode.CloseMidDocument:
                var full = soap ? SoapReturn(OciXml.Response("x", "LoginResponse22V5", ("loginType", "User"))) : Page("complete page");
                var bytes = Encoding.UTF8.GetBytes(full);
                http.Response.StatusCode = 200;
                http.Response.ContentType = "text/xml";
                http.Response.ContentLength = bytes.Length;
                await http.Response.Body.WriteAsync(bytes.AsMemory(0, bytes.Length / 2));
                await http.Response.Body.FlushAsync();
                http.Abort();
                return;
            case FaultMode.EchoRequest:
                var echoed = soap ? SoapFault("could not process request: " + body) : $"<ErrorInfo xmlns=\"http://schema.broadsoft.com/xsi\"><summaryEnglish>{System.Security.SecurityElement.Escape($"rejected {http.Request.Headers.Authorization} for {DecodeBasic(http)?.Password}")}</summaryEnglish></ErrorInfo>";
                await Write(http, soap ? 500 : 401, echoed, "text/xml");
                return;
        }

        var realLike = Variant == FakeVariant.RealLike;
        var mtls = http.Connection.LocalPort == MtlsPort;
        if (realLike && path == "/com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel" && http.Request.Method == "POST")
        {
            await OpenChannelAsync(http, body ?? "");
            return;
        }
        if (realLike && path.StartsWith("/com.broadsoft.xsi-events/v2.0/channel/", StringComparison.Ordinal) && http.Request.Method == "DELETE")
        {
            var id = Uri.UnescapeDataString(path["/com.broadsoft.xsi-events/v2.0/channel/".Length..]);
            await (!Authorized(http, null) ? Unauthorized(http)
                : OpenChannels.TryRemove(id, out _) ? Write(http, 200, "", "application/xml")
                : Write(http, 404, "", "application/xml"));
            return;
        }
        if (realLike && path.StartsWith("/authService", StringComparison.Ordinal) && !mtls)
        {
            // Served on the mutual-TLS interface only.
            await Write(http, 404, "<html><body>Not Found</body></html>", "text/html");
            return;
        }
        if (realLike && path.StartsWith("/callsettings", StringComparison.Ordinal) && (http.Request.Method != "POST" || string.IsNullOrEmpty(body)))
        {
            // CallSettingsWebview's injected filter: anything but a POST with a body.
            await Write(http, 400, "<html><body><h1>HTTP Status 400</h1><p>Error: Only HTTP POST supported.</p></body></html>", "text/html");
            return;
        }
        if (realLike && path.StartsWith("/dms/", StringComparison.Ordinal))
        {
            await DmsDigestAsync(http);
            return;
        }
        if (soap && http.Request.Method == "POST")
        {
            await SoapAsync(http, body ?? "");
            return;
        }
        if (path.StartsWith("/com.broadsoft.xsi-actions/v2.0/user/", StringComparison.Ordinal))
        {
            var rest = path["/com.broadsoft.xsi-actions/v2.0/user/".Length..].Split('/');
            if (!Authorized(http, Uri.UnescapeDataString(rest[0])))
            {
                await Unauthorized(http);
                return;
            }
            var content = rest.ElementAtOrDefault(1) switch
            {
                "profile" => $"<Profile xmlns=\"http://schema.broadsoft.com/xsi\"><details><userId>{rest[0]}</userId><lastName>Error</lastName></details></Profile>",
                "calls" => "<Calls xmlns=\"http://schema.broadsoft.com/xsi\"/>",
                _ => null,
            };
            await (content is null ? Write(http, 404, "", "text/xml") : Write(http, 200, content, "application/xml"));
            return;
        }
        if (path == "/com.broadsoft.xsi-events/v2.0/versions")
        {
            await (Authorized(http, null) ? Write(http, 200, "<Versions xmlns=\"http://schema.broadsoft.com/xsi\"><version>v2.0</version></Versions>", "application/xml") : Unauthorized(http));
            return;
        }
        if (path == "/authService/token")
        {
            await (Authorized(http, null) ? Write(http, 200, $"<token>{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}</token>", "application/xml") : Unauthorized(http));
            return;
        }
        switch (path)
        {
            case "/callcenter/":
                http.Response.Headers.Location = "/callcenter/login.jsp";
                await Write(http, 302, "", "text/html");
                return;
            case "/receptionist/" or "/moderator/" or "/Login/":
                await Write(http, 200, Page($"BroadWorks {path.Trim('/')}"), "text/html");
                return;
            case "/publicreporting/":
                http.Response.Headers.WWWAuthenticate = "Basic realm=\"reporting\"";
                await Write(http, 401, "", "text/html");
                return;
            case "/ocifiles/":
                await Write(http, 403, "", "text/html");
                return;
            case "/callsettings/":
                await Write(http, 200, "<html><head><title>BWCallSettingsWeb</title></head><body><app-bsft-call-settings></app-bsft-call-settings></body></html>", "text/html");
                return;
        }
        if (path.StartsWith("/dms/", StringComparison.Ordinal))
        {
            await Write(http, 200, "<device-config/>", "application/xml");
            return;
        }
        await Write(http, 404, "<html><body>Not Found</body></html>", "text/html");
    }

    private async Task SoapAsync(HttpContext http, string body)
    {
        var arg = XDocument.Parse(body).Descendants().First(e => e.Name.LocalName == "arg0").Value;
        var request = OciXml.Parse(arg);
        SoapCommands.Enqueue($"{request.SessionId} {request.Command}");
        var cookie = http.Request.Cookies["JSESSIONID"];
        var user = request.Fields.GetValueOrDefault("userId", "");
        string answer;
        switch (request.Command)
        {
            case "LoginRequest22V5":
                if (_users.TryGetValue(user, out var password) && request.Fields.GetValueOrDefault("password") == password)
                {
                    var session = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
                    _sessions[session] = user;
                    http.Response.Cookies.Append("JSESSIONID", session, new CookieOptions { Path = "/webservice", HttpOnly = true });
                    answer = OciXml.Response(request.SessionId, "LoginResponse22V5", ("loginType", "User"), ("locale", "en_US"), ("encoding", "ISO-8859-1"));
                }
                else
                {
                    answer = OciXml.Error(request.SessionId, "[Error 4962] Invalid password");
                }
                break;
            case "UserGetRequest23":
                answer = cookie is not null && _sessions.TryGetValue(cookie, out var loggedIn) && loggedIn == user
                    ? OciXml.Response(request.SessionId, "UserGetResponse23", ("serviceProviderId", "sp1"), ("groupId", "g1"),
                        ("lastName", "Error"), ("firstName", "Test"), ("phoneNumber", "2059784479"), ("userId", user))
                    : OciXml.Error(request.SessionId, "[Error 4003] User not authorized: not logged in");
                break;
            case "LogoutRequest":
                if (cookie is not null)
                {
                    _sessions.TryRemove(cookie, out _);
                }
                answer = OciXml.Response(request.SessionId, "c:SuccessResponse");
                break;
            default:
                answer = OciXml.Error(request.SessionId, $"[Error 4001] {request.Command} not supported by the fixture");
                break;
        }
        await Write(http, 200, SoapReturn(answer), "text/xml; charset=utf-8");
    }

    /// <summary>
    /// An Xsi-Events channel as the server streams it: a chunked 200 whose first part is the &lt;Channel&gt; with its
    /// channelId, then nothing until the client goes away (a real server sends heartbeats and events for as long as the
    /// channel lives, so a client waiting for the end of the body would wait for the expiry).
    /// </summary>
    private async Task OpenChannelAsync(HttpContext http, string body)
    {
        if (!Authorized(http, null))
        {
            await Unauthorized(http);
            return;
        }
        var request = XDocument.Parse(body).Root!;
        XNamespace xsi = "http://schema.broadsoft.com/xsi";
        if (request.Name != xsi + "Channel" || request.Element(xsi + "channelSetId") is null || request.Element(xsi + "expires") is null)
        {
            await Write(http, 400, "<ErrorInfo xmlns=\"http://schema.broadsoft.com/xsi\"><summary>Invalid channel</summary><summaryEnglish>Invalid channel</summaryEnglish></ErrorInfo>", "application/xml");
            return;
        }
        var id = Guid.NewGuid().ToString();
        OpenChannels[id] = DecodeBasic(http)!.Value.User;
        Interlocked.Increment(ref _channelsOpened);
        var channel = new XElement(xsi + "Channel",
            new XElement(xsi + "channelId", id),
            new XElement(xsi + "channelSetId", request.Element(xsi + "channelSetId")!.Value),
            new XElement(xsi + "priority", request.Element(xsi + "priority")?.Value ?? "1"),
            new XElement(xsi + "weight", request.Element(xsi + "weight")?.Value ?? "50"),
            new XElement(xsi + "expires", request.Element(xsi + "expires")!.Value));
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/xml; charset=UTF-8";
        await http.Response.WriteAsync("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + channel.ToString(SaveOptions.DisableFormatting));
        await http.Response.Body.FlushAsync();
        await Task.Delay(Timeout.Infinite, http.RequestAborted).ContinueWith(_ => { });
    }

    /// <summary>The DMS as BroadSoft's own client meets it: 401 with a Digest challenge, then the device file for valid device credentials (RFC 7616, MD5, qop=auth).</summary>
    private async Task DmsDigestAsync(HttpContext http)
    {
        const string realm = "BroadWorks DMS";
        var header = http.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Digest ", StringComparison.OrdinalIgnoreCase))
        {
            var p = DigestParameters(header[7..]);
            if (p.TryGetValue("username", out var user) && DmsUsers.TryGetValue(user, out var password) && p.GetValueOrDefault("realm") == realm
                && p.TryGetValue("nonce", out var nonce) && p.TryGetValue("uri", out var uri) && p.TryGetValue("response", out var response))
            {
                static string Md5(string text) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(text)));
                var ha1 = Md5($"{user}:{realm}:{password}");
                var ha2 = Md5($"{http.Request.Method}:{uri}");
                var expected = p.GetValueOrDefault("qop") == "auth"
                    ? Md5($"{ha1}:{nonce}:{p.GetValueOrDefault("nc")}:{p.GetValueOrDefault("cnonce")}:auth:{ha2}")
                    : Md5($"{ha1}:{nonce}:{ha2}");
                if (string.Equals(expected, response, StringComparison.OrdinalIgnoreCase))
                {
                    await Write(http, 200, "<device-config/>", "application/xml");
                    return;
                }
            }
        }
        http.Response.Headers.WWWAuthenticate = $"Digest realm=\"{realm}\", qop=\"auth\", nonce=\"{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))}\", algorithm=MD5";
        await Write(http, 401, "<html><body>401 Unauthorized</body></html>", "text/html");
    }

    private static Dictionary<string, string> DigestParameters(string text)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(text, "(\\w+)=(?:\"([^\"]*)\"|([^,\\s]*))"))
        {
            result[m.Groups[1].Value] = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
        }
        return result;
    }

    /// <summary>Number of OCI-over-SOAP sessions still logged in (a client that logs out leaves none).</summary>
    public int OpenSoapSessions => _sessions.Count;

    private bool Authorized(HttpContext http, string? pathUser)
    {
        var credentials = DecodeBasic(http);
        return credentials is { } c && _users.TryGetValue(c.User, out var password) && password == c.Password && (pathUser is null || pathUser == c.User);
    }

    private static (string User, string Password)? DecodeBasic(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
        var colon = text.IndexOf(':');
        return colon < 0 ? null : (text[..colon], text[(colon + 1)..]);
    }

    private static Task Unauthorized(HttpContext http)
    {
        http.Response.Headers.WWWAuthenticate = "Basic realm=\"BroadWorks\"";
        return Write(http, 401, "<ErrorInfo xmlns=\"http://schema.broadsoft.com/xsi\"><summary>Authentication failed</summary><summaryEnglish>Authentication failed</summaryEnglish><errorCode>110509</errorCode></ErrorInfo>", "application/xml");
    }

    private static string Page(string title) => $"<html><head><title>{title}</title></head><body>{title}</body></html>";

    private static string SoapReturn(string oci) =>
        $"<?xml version=\"1.0\" encoding=\"utf-8\"?><soapenv:Envelope xmlns:soapenv=\"{SoapEnv}\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">" +
        "<soapenv:Body><ns1:processOCIMessageResponse soapenv:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\" xmlns:ns1=\"urn:com:broadsoft:webservice\">" +
        $"<processOCIMessageReturn xsi:type=\"xsd:string\">{System.Security.SecurityElement.Escape(oci)}</processOCIMessageReturn>" +
        "</ns1:processOCIMessageResponse></soapenv:Body></soapenv:Envelope>";

    private static string SoapFault(string text) =>
        $"<?xml version=\"1.0\" encoding=\"utf-8\"?><soapenv:Envelope xmlns:soapenv=\"{SoapEnv}\"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode>" +
        $"<faultstring>{System.Security.SecurityElement.Escape(text)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>";

    private static Task Write(HttpContext http, int status, string body, string contentType)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = contentType;
        return http.Response.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
