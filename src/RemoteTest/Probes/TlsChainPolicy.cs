using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Probes;

/// <summary>
/// The chain policy for every client TLS handshake (porttest, OCI-P, SIP, HTTPS applications, webhooks).
/// </summary>
/// <remarks>
/// Without it, <see cref="System.Net.Security.SslStream"/> builds the server's chain itself before any validation
/// callback runs, and on a missing issuer it downloads the certificate named in the leaf's AIA "CA Issuers" URL
/// (and CRLs) with its own HTTP client: an outbound request to any address the server chooses, which the
/// network-target guard never sees. Downloads are off and revocation is not checked, so a server that omits an
/// intermediate is reported as such (<c>chain_complete: false</c>), never completed from the network.
/// </remarks>
public static class TlsChainPolicy
{
    /// <summary>A fresh policy (SslStream adds the peer's certificates to its extra store, so none is shared).</summary>
    public static X509ChainPolicy NoDownloads() => new()
    {
        DisableCertificateDownloads = true,
        RevocationMode = X509RevocationMode.NoCheck,
    };
}
