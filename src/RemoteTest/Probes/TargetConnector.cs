using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>
/// Connections to a target by host name for protocol probes: names resolved through <see cref="IHostResolver"/>,
/// TCP through <see cref="TcpConnector"/> (the single outbound TCP path, where the network-target guard sits),
/// UDP through <see cref="ConnectUdpAsync"/>, HTTP through a handler whose every connection takes the TCP path, and
/// TLS through <see cref="TlsHandshake"/> (so every TLS check reports the same certificate facts as porttest).
/// </summary>
/// <param name="guard">The network-target policy, for UDP (TCP is judged inside <see cref="TcpConnector"/>).</param>
public sealed class TargetConnector(TcpConnector tcp, IHostResolver resolver, TimeProvider time, Security.TargetGuard? guard = null)
{
    /// <summary>Resolves <paramref name="host"/> and connects to the first address that answers.</summary>
    /// <exception cref="ProbeFailureException">Not found, refused, unreachable or silent, in words.</exception>
    public async Task<TcpConnectResult> ConnectTcpAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        TcpConnectResult? last = null;
        foreach (var address in await ResolveAsync(host, timeout, cancellationToken))
        {
            last?.Dispose();
            last = await tcp.ConnectAsync(new IPEndPoint(address, port), timeout, cancellationToken);
            if (last.Connected)
            {
                return last;
            }
        }
        throw new ProbeFailureException(new ProbeFailure(last?.Error ?? "no address to connect to", last?.ErrorKind ?? ErrorKind.Unreachable));
    }

    /// <summary>
    /// A UDP socket connected to the first address of <paramref name="host"/>: the one outbound UDP path (the
    /// network-target guard checks this address too when it arrives).
    /// </summary>
    public async Task<Socket> ConnectUdpAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var address = (await ResolveAsync(host, timeout, cancellationToken))[0];
        if (guard?.Check(address) is { } refusal)
        {
            throw new ProbeFailureException(new ProbeFailure(refusal, ErrorKind.NotAllowed));
        }
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
    /// TLS over a connected socket; the certificate is judged by <paramref name="policy"/> and its facts land in
    /// <paramref name="observation"/> whether or not it is accepted.
    /// </summary>
    /// <exception cref="ProbeFailureException">Handshake failed, timed out, or the certificate was refused.</exception>
    public async Task<SslStream> StartTlsAsync(TcpConnectResult connection, string host, TlsClientPolicy policy, TlsObservation observation,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var session = await TlsHandshake.RunAsync(connection.GetStream(),
            new TlsHandshakeRequest(host.Trim('[', ']'), policy.Verify, policy.ExtraRoots, timeout), time, cancellationToken);
        observation.Record(session);
        if (!session.Accepted)
        {
            throw new ProbeFailureException(new ProbeFailure(session.Error ?? "TLS handshake failed", session.ErrorKind ?? ErrorKind.TlsHandshake));
        }
        return session.Stream!;
    }

    /// <summary>
    /// An HTTP handler whose every connection goes through <see cref="ConnectTcpAsync"/>; it never follows redirects
    /// (a redirect is reported, and each hop would need the target policy) and judges certificates by <paramref name="policy"/>.
    /// </summary>
    public SocketsHttpHandler CreateHttpHandler(TlsClientPolicy policy, TlsObservation observation, CookieContainer? cookies = null)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
            ConnectCallback = async (context, cancellationToken) =>
            {
                // The request's own timeout bounds the connect through cancellationToken.
                var connection = await ConnectTcpAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, Timeout.InfiniteTimeSpan, cancellationToken);
                observation.Address = connection.Endpoint.Address.ToString();
                observation.ConnectTime = connection.Elapsed;
                return connection.GetStream();
            },
        };
        // No certificate downloads (AIA, CRL) during the handshake's own chain build: see TlsChainPolicy.
        handler.SslOptions.CertificateChainPolicy = TlsChainPolicy.NoDownloads();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            policy.Judge(observation.TargetHost, certificate, chain, observation, time.GetUtcNow());
        return handler;
    }

    private async Task<IReadOnlyList<IPAddress>> ResolveAsync(string host, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var resolution = await HostResolution.ResolveAsync(resolver, host.Trim('[', ']'), timeout, time, cancellationToken);
        return resolution.Resolved
            ? resolution.Addresses
            : throw new ProbeFailureException(new ProbeFailure(resolution.Error!, resolution.ErrorKind ?? ErrorKind.Dns));
    }
}

/// <summary>A probe step failed with words already chosen for the result (a refused connect, a refused certificate).</summary>
public sealed class ProbeFailureException(ProbeFailure failure) : Exception(failure.Error)
{
    public ProbeFailure Failure { get; } = failure;
}
