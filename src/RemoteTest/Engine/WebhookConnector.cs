using System.Net;
using System.Net.Sockets;
using RemoteTest.Security;

namespace RemoteTest.Engine;

/// <summary>
/// Decides whether a webhook may connect to an address. Every webhook connection passes here after DNS
/// resolution (so a name that resolves to a forbidden address is caught, DNS rebinding included).
/// </summary>
public interface IWebhookTargetGuard
{
    /// <summary>Null to allow; otherwise the reason the connection is refused.</summary>
    ValueTask<string?> CheckAsync(string host, IPAddress address, int port, CancellationToken cancellationToken);
}

/// <summary>Default <see cref="IWebhookTargetGuard"/>: the probes' target policy, so a webhook cannot reach what a probe may not.</summary>
public sealed class PolicyWebhookTargets(TargetGuard guard) : IWebhookTargetGuard
{
    public ValueTask<string?> CheckAsync(string host, IPAddress address, int port, CancellationToken cancellationToken) =>
        ValueTask.FromResult(guard.Check(address));
}

/// <summary>A webhook target refused by <see cref="IWebhookTargetGuard"/>; not retried.</summary>
public sealed class WebhookTargetRefusedException(string message) : Exception(message)
{
    /// <summary>The refusal somewhere in an exception chain (the HTTP handler wraps what the connector throws).</summary>
    public static WebhookTargetRefusedException? Find(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is WebhookTargetRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }
}

/// <summary>
/// The single place where the webhook HttpClient opens connections (its <see cref="SocketsHttpHandler.ConnectCallback"/>):
/// resolves the host, asks the guard about each address, and connects to the first allowed one that answers.
/// </summary>
public sealed class WebhookConnector(IWebhookTargetGuard guard)
{
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);

        Exception? last = null;
        foreach (var address in addresses)
        {
            if (await guard.CheckAsync(host, address, port, cancellationToken) is { } reason)
            {
                last = new WebhookTargetRefusedException($"webhook target {host} ({address}) not allowed: {reason}");
                continue;
            }
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                socket.Dispose();
                if (ex is OperationCanceledException)
                {
                    throw;
                }
                last = ex;
            }
        }
        throw last is WebhookTargetRefusedException refused
            ? new HttpRequestException(refused.Message, refused)
            : new HttpRequestException($"could not connect to {host}:{port}: {last?.Message ?? "no address"}", last);
    }
}
