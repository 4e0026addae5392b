using System.Net;
using Microsoft.AspNetCore.Http;

namespace RemoteTest.Security;

/// <summary>Where the service listens, read from configuration the way Kestrel reads it (urls, Kestrel:Endpoints, http_ports).</summary>
public static class ListenAddresses
{
    /// <summary>Every configured listen URL; <paramref name="fallback"/> when none is configured.</summary>
    public static IReadOnlyList<string> From(IConfiguration configuration, string fallback)
    {
        var urls = new List<string>();
        foreach (var endpoint in configuration.GetSection("Kestrel:Endpoints").GetChildren())
        {
            if (endpoint["Url"] is { Length: > 0 } url)
            {
                urls.Add(url);
            }
        }
        if (urls.Count > 0)
        {
            // Kestrel's own endpoints replace urls and ports.
            return urls;
        }
        if (configuration[WebHostDefaults.ServerUrlsKey] is { Length: > 0 } configured)
        {
            return configured.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }
        foreach (var key in new[] { "http_ports", "https_ports" })
        {
            if (configuration[key] is { Length: > 0 } ports)
            {
                // Ports alone bind every interface.
                urls.AddRange(ports.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => $"http://*:{p.Trim()}"));
            }
        }
        return urls.Count > 0 ? urls : [fallback];
    }

    /// <summary>True when every URL is reachable only from this machine (localhost, 127.0.0.0/8, ::1, a unix socket).</summary>
    public static bool AreLoopbackOnly(IEnumerable<string> urls) => urls.All(IsLoopback);

    /// <summary>
    /// Judged the way Kestrel binds it (<see cref="BindingAddress.Parse"/>): a host Kestrel does not recognise as
    /// <c>localhost</c> or an IP address — including <c>127.0.0.1:notaport</c>, whose bad port makes the whole text the
    /// host — is bound on every interface, so only those two and sockets count as loopback.
    /// </summary>
    public static bool IsLoopback(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException)
        {
            return false;
        }
        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return true;
        }
        var host = address.Host;
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        var literal = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        return IPAddress.TryParse(literal, out var ip) && IPAddress.IsLoopback(ip);
    }

    /// <summary>Why Kestrel would not bind <paramref name="url"/> where it says (no scheme, a port that is not a number), else null.</summary>
    public static string? Problem(string url)
    {
        BindingAddress address;
        try
        {
            address = BindingAddress.Parse(url);
        }
        catch (FormatException ex)
        {
            return $"'{url}' is not a listen address ({ex.Message.TrimEnd('.')})";
        }
        if (address.IsUnixPipe || address.IsNamedPipe)
        {
            return null;
        }
        var host = address.Host;
        var bracketed = host.StartsWith('[') && host.EndsWith(']');
        if (!bracketed && host.Contains(':') && !IPAddress.TryParse(host, out _))
        {
            return $"'{url}' has no valid port (Kestrel would listen on every interface, port {address.Port})";
        }
        return null;
    }
}
