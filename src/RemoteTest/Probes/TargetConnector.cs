using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>
/// The one way probes open connections to targets: one method per transport (TCP, UDP, and HTTP built on the TCP
/// one), so a policy on where connections may go (the network-target guard) is enforced in exactly one place, on the
/// address actually connected to after name resolution.
/// </summary>
public class TargetConnector
{
    /// <summary>Resolves <paramref name="host"/> and connects to the first address that answers.</summary>
    /// <exception cref="SocketException">Refused, unreachable or not found; the last address's error when all fail.</exception>
    public virtual async Task<TcpConnection> ConnectTcpAsync(string host, int port, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        SocketException? last = null;
        foreach (var address in await ResolveAsync(host, cancellationToken))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
                return new TcpConnection(socket, address, Stopwatch.GetElapsedTime(started));
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>A UDP socket connected to the first address of <paramref name="host"/>.</summary>
    public virtual async Task<Socket> ConnectUdpAsync(string host, int port, CancellationToken cancellationToken)
    {
        var address = (await ResolveAsync(host, cancellationToken))[0];
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An HTTP handler whose every connection goes through <see cref="ConnectTcpAsync"/>; it never follows redirects
    /// (a redirect is reported, and each hop would need the target policy) and judges certificates by <paramref name="tls"/>.
    /// </summary>
    public SocketsHttpHandler CreateHttpHandler(TlsClientPolicy tls, TlsObservation observation, System.Net.CookieContainer? cookies = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new System.Net.CookieContainer(),
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var connection = await ConnectTcpAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);
                observation.Address = connection.Address.ToString();
                observation.ConnectTime = connection.ConnectTime;
                return new NetworkStream(connection.Socket, ownsSocket: true);
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, errors) =>
            tls.Validate(observation.TargetHost ?? "", certificate, chain, errors, observation);
        return handler;
    }

    /// <summary>Wraps a connected socket in TLS, judged by <paramref name="tls"/>; the observation records what was seen.</summary>
    public static async Task<SslStream> StartTlsAsync(Socket socket, string host, TlsClientPolicy tls, TlsObservation observation, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(tls.CreateOptions(host, observation), cancellationToken);
            observation.Completed(ssl);
            return ssl;
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
    }

    private static async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }
        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        // IPv4 first: a dual-stack name whose v6 path is broken should not cost a connect timeout before v4 is tried.
        return [.. addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? 1 : 0)];
    }
}

/// <summary>A connected TCP socket, the address it reached and how long connecting took.</summary>
public sealed record TcpConnection(Socket Socket, IPAddress Address, TimeSpan ConnectTime);
