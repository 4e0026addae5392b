using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Probes;

/// <summary>
/// How a probe judges a server certificate: <see cref="Verify"/> as the task's <c>verify_ssl</c>, and extra trust
/// roots (the <c>ca_pem</c> kwarg and the configured <c>RemoteTest:Tls</c> roots) beside the system's.
/// </summary>
public sealed record TlsClientPolicy(bool Verify, X509Certificate2Collection ExtraRoots)
{
    /// <summary>
    /// The judgement for a handshake the probe does not run itself (HTTPS inside HttpClient): the certificates the
    /// server sent are inspected as porttest does, recorded, and accepted when valid or when not verifying.
    /// </summary>
    public bool Judge(string? targetHost, X509Certificate? certificate, X509Chain? chain, TlsObservation observation, DateTimeOffset now)
    {
        var sent = TlsHandshake.SentCertificates(certificate, chain);
        if (sent is not { Count: > 0 })
        {
            observation.VerifyError = "the server sent no certificate";
            return !Verify;
        }
        var certificates = sent.Select(raw => X509CertificateLoader.LoadCertificate(raw)).ToList();
        try
        {
            var info = TlsCertificateInfo.Inspect(certificates, targetHost, ExtraRoots, now);
            observation.Certificate = info;
            if (Verify && !info.Valid)
            {
                observation.VerifyError = string.Join("; ", info.VerifyErrors);
                return false;
            }
            return true;
        }
        finally
        {
            certificates.ForEach(c => c.Dispose());
        }
    }
}

/// <summary>What one TLS handshake showed, for the check's result; filled by the connector or the HTTP handler.</summary>
public sealed class TlsObservation
{
    /// <summary>The name certificates are checked against (the host as the user gave it).</summary>
    public string? TargetHost { get; set; }

    /// <summary>The address connected to, when known.</summary>
    public string? Address { get; set; }

    /// <summary>How long the TCP connect took, when known.</summary>
    public TimeSpan? ConnectTime { get; set; }

    /// <summary>Why the certificate was refused, in words; null when accepted.</summary>
    public string? VerifyError { get; set; }

    public TlsCertificateInfo? Certificate { get; set; }

    public string? Protocol { get; set; }

    public string? Cipher { get; set; }

    public void Record(TlsSession session)
    {
        Certificate = session.Certificate;
        Protocol = session.Protocol;
        Cipher = session.Cipher;
        VerifyError = session.ErrorKind == ErrorKind.TlsVerify ? session.Error : null;
    }

    /// <summary>The TLS facts for a result, or null when no handshake got as far as a certificate.</summary>
    public TlsReport? ToReport() => Certificate is null && Protocol is null ? null : new TlsReport(Protocol, Cipher, VerifyError, Certificate);
}

/// <summary>A TLS check's facts: the negotiated protocol and cipher, why the certificate was refused, and the certificate as porttest reports it.</summary>
public sealed record TlsReport(string? Protocol, string? Cipher, string? VerifyError, TlsCertificateInfo? Certificate);
