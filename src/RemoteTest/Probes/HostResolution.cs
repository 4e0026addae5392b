using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>The seam to the name service: the system resolver in the service, a fixed table in tests.</summary>
public interface IHostResolver
{
    /// <summary>The A and AAAA addresses of <paramref name="host"/>, in the order a client should try them.</summary>
    Task<IPAddress[]> GetHostAddressesAsync(string host, CancellationToken cancellationToken);
}

/// <summary>The operating system's resolver (getaddrinfo: /etc/hosts, then DNS), ordered as RFC 6724 prefers.</summary>
public sealed class SystemHostResolver : IHostResolver
{
    public Task<IPAddress[]> GetHostAddressesAsync(string host, CancellationToken cancellationToken) =>
        Dns.GetHostAddressesAsync(host, cancellationToken);
}

/// <summary>The addresses behind a host name, or why there are none.</summary>
public sealed record HostResolution(string Host, IReadOnlyList<IPAddress> Addresses, TimeSpan Elapsed, string? Error, string? ErrorKind)
{
    public bool Resolved => Error is null;

    /// <summary>Resolves <paramref name="host"/> (an IP literal is its own answer) within <paramref name="timeout"/>.</summary>
    public static async Task<HostResolution> ResolveAsync(
        IHostResolver resolver, string host, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var literal))
        {
            return new HostResolution(host, [literal], TimeSpan.Zero, null, null);
        }

        var started = time.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var addresses = (await resolver.GetHostAddressesAsync(host, deadline.Token).WaitAsync(deadline.Token))
                .Distinct().ToArray();
            return addresses.Length == 0
                ? Failed($"{host} has no A or AAAA records")
                : new HostResolution(host, addresses, time.GetElapsedTime(started), null, null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return Failed($"DNS lookup of {host} timed out after {ProbeText.Seconds(timeout)} s");
        }
        catch (SocketException ex)
        {
            return Failed(ex.SocketErrorCode switch
            {
                SocketError.HostNotFound => $"host not found: {host}",
                SocketError.NoData => $"{host} has no A or AAAA records",
                SocketError.TryAgain => $"temporary DNS failure looking up {host} (the resolver answered SERVFAIL or did not answer)",
                _ => $"DNS lookup of {host} failed: {ex.Message}",
            });
        }

        HostResolution Failed(string error) => new(host, [], time.GetElapsedTime(started), error, Probes.ErrorKind.Dns);
    }
}
