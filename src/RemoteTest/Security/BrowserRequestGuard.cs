using System.Net;

namespace RemoteTest.Security;

/// <summary>
/// Keeps web pages from driving the API through a visitor's browser. Two rules, checked before authentication:
/// <list type="bullet">
/// <item>While anonymous access is on, the <c>Host</c> header must name this machine (<c>localhost</c>, a
/// 127.0.0.0/8 address, <c>[::1]</c>) or one of <c>Auth:AllowedHosts</c>: a DNS-rebinding page reaches the
/// service under its own host name, which is refused, so it can neither submit nor read answers.</item>
/// <item>A state-changing request (anything but GET, HEAD, OPTIONS) that carries an <c>Origin</c> other than the
/// service's own or one of <c>Cors:AllowedOrigins</c> is refused: a cross-site form or <c>text/plain</c> fetch
/// needs no preflight, so CORS alone would not stop it. curl and the CLI send no <c>Origin</c> and are unaffected.</item>
/// </list>
/// </summary>
public sealed class BrowserRequestGuard
{
    private readonly bool _checkHost;
    private readonly HashSet<string> _allowedHosts;
    private readonly HashSet<string> _allowedOrigins;
    private readonly AuditLog _audit;

    public BrowserRequestGuard(RemoteTestOptions options, ApiTokenDirectory tokens, AuditLog audit)
    {
        _checkHost = tokens.Anonymous is not null;
        _allowedHosts = options.Auth.AllowedHosts.Select(h => h.Trim().TrimEnd('.').ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        _allowedOrigins = options.Cors.AllowedOrigins.Select(o => o.Trim().TrimEnd('/').ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        _audit = audit;
    }

    /// <summary>Whether the Host header is checked (anonymous access is on).</summary>
    public bool ChecksHost => _checkHost;

    public async Task InvokeAsync(HttpContext http, Func<Task> next)
    {
        if (_checkHost && http.Request.Host.HasValue && !IsAllowedHost(http.Request.Host.Host))
        {
            _audit.BrowserRefused(http, "Host");
            http.Response.StatusCode = StatusCodes.Status400BadRequest;
            await http.Response.WriteAsJsonAsync(new
            {
                error = "this service answers only to loopback host names while anonymous access is on; " +
                        $"add the name to {RemoteTestOptions.Section}:Auth:AllowedHosts or configure API tokens",
                field = "Host",
            });
            return;
        }
        if (IsStateChanging(http.Request.Method) && IsCrossOrigin(http))
        {
            _audit.BrowserRefused(http, "Origin");
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            await http.Response.WriteAsJsonAsync(new
            {
                error = $"cross-origin request refused: add the origin to {RemoteTestOptions.Section}:Cors:AllowedOrigins to allow it",
                field = "Origin",
            });
            return;
        }
        await next();
    }

    /// <summary>Loopback names and literals, and the configured names.</summary>
    public bool IsAllowedHost(string host)
    {
        var name = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (name == "localhost" || _allowedHosts.Contains(name))
        {
            return true;
        }
        return IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address);
    }

    private static bool IsStateChanging(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method));

    private bool IsCrossOrigin(HttpContext http)
    {
        var headers = http.Request.Headers;
        if (headers.Origin.Count == 0)
        {
            // Browsers send Origin on every cross-site POST; Fetch Metadata covers the rest when present.
            return string.Equals(headers["Sec-Fetch-Site"], "cross-site", StringComparison.OrdinalIgnoreCase);
        }
        var origin = headers.Origin.ToString().Trim().TrimEnd('/').ToLowerInvariant();
        if (_allowedOrigins.Contains(origin))
        {
            return false;
        }
        // "null" (sandboxed frames, file: pages) and anything unparsable are cross-origin.
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return true;
        }
        // The service's own origin: the same host and port as the request's Host (the scheme may differ behind a
        // TLS-terminating proxy). A rebinding page has a matching Host too, which is why the Host rule exists.
        var own = http.Request.Host;
        if (!own.HasValue)
        {
            return true;
        }
        var samePort = own.Port is { } port ? uri.Port == port : uri.IsDefaultPort;
        return !(string.Equals(uri.Host.Trim('[', ']'), own.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && samePort);
    }
}
