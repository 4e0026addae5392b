using System.Net;

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

    public static bool IsLoopback(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var rest = schemeEnd < 0 ? url : url[(schemeEnd + 3)..];
        if (rest.StartsWith("unix:", StringComparison.OrdinalIgnoreCase) || rest.StartsWith("pipe:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        string host;
        if (rest.StartsWith('['))
        {
            var close = rest.IndexOf(']');
            host = close < 0 ? rest : rest[1..close];
        }
        else
        {
            var end = rest.IndexOfAny([':', '/']);
            host = end < 0 ? rest : rest[..end];
        }
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        return IPAddress.TryParse(host, out var ip) && IPAddress.IsLoopback(ip);
    }
}
