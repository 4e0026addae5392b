using System.Globalization;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Probes;

/// <summary>
/// How a probe judges a server certificate: <see cref="Verify"/> as the task's <c>verify_ssl</c>, and extra trust
/// roots (the <c>ca_pem</c> kwarg and configured roots) that count beside the system's, for private CAs.
/// </summary>
public sealed record TlsClientPolicy(bool Verify, X509Certificate2Collection ExtraRoots)
{
    /// <summary>Verify against the system roots only.</summary>
    public static TlsClientPolicy System { get; } = new(true, []);

    /// <summary>Client options for one handshake with <paramref name="targetHost"/>; what is seen lands in <paramref name="observation"/>.</summary>
    public SslClientAuthenticationOptions CreateOptions(string targetHost, TlsObservation observation) => new()
    {
        // SNI must be a name: for an IP literal the runtime sends none, and name checks use the IP SANs.
        TargetHost = targetHost,
        RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(targetHost, certificate, chain, errors, observation),
    };

    /// <summary>Decides one certificate; records its facts and, when rejected, why in words.</summary>
    public bool Validate(string targetHost, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, TlsObservation observation)
    {
        if (certificate is null)
        {
            observation.VerifyError = "the server sent no certificate";
            return !Verify;
        }
        using var leaf = new X509Certificate2(certificate);
        observation.Certificate = TlsCertificateSummary.From(leaf);
        if (!Verify)
        {
            return true;
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            observation.VerifyError = $"name mismatch: certificate is for {observation.Certificate.Names()}, not {targetHost}";
            return false;
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            var problem = ExtraRoots.Count > 0 ? ChainProblemWithExtraRoots(leaf, chain) : ChainProblem(chain);
            if (problem is not null)
            {
                observation.VerifyError = problem;
                return false;
            }
        }
        else if (errors != SslPolicyErrors.None)
        {
            observation.VerifyError = $"certificate not accepted ({errors})";
            return false;
        }
        return true;
    }

    /// <summary>Builds the chain again with the extra roots as trust anchors; null when it then holds.</summary>
    private string? ChainProblemWithExtraRoots(X509Certificate2 leaf, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(ExtraRoots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return chain.Build(leaf) ? null : ChainProblem(chain) ?? ChainProblem(presented) ?? "certificate chain not trusted";
    }

    /// <summary>The issuer is neither sent by the server nor a trusted root: an unknown (often private) CA.</summary>
    private static string Untrusted(X509Certificate2 last) =>
        $"untrusted issuer '{last.Issuer}' (not a trusted root and not sent by the server; a private CA can be added with ca_pem)";

    private static string? ChainProblem(X509Chain? chain)
    {
        if (chain is null)
        {
            return "certificate chain could not be built";
        }
        var words = new List<string>();
        foreach (var element in chain.ChainElements)
        {
            foreach (var status in element.ChainElementStatus)
            {
                words.Add(status.Status switch
                {
                    X509ChainStatusFlags.NotTimeValid when element.Certificate.NotAfter < DateTime.Now =>
                        $"expired on {element.Certificate.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC",
                    X509ChainStatusFlags.NotTimeValid =>
                        $"not valid before {element.Certificate.NotBefore.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC",
                    X509ChainStatusFlags.UntrustedRoot when element.Certificate.Subject == element.Certificate.Issuer && chain.ChainElements.Count == 1 => "self-signed",
                    X509ChainStatusFlags.UntrustedRoot => "untrusted root",
                    X509ChainStatusFlags.PartialChain => Untrusted(element.Certificate),
                    X509ChainStatusFlags.Revoked => "revoked",
                    _ => status.Status.ToString(),
                });
            }
        }
        foreach (var status in chain.ChainStatus.Where(s => s.Status == X509ChainStatusFlags.PartialChain))
        {
            words.Add(Untrusted(chain.ChainElements[^1].Certificate));
        }
        return words.Count == 0 ? null : string.Join(", ", words.Distinct());
    }
}

/// <summary>What one handshake showed: filled in by the validation callback and after the handshake.</summary>
public sealed class TlsObservation
{
    /// <summary>The name certificates are checked against (the host as the user gave it).</summary>
    public string? TargetHost { get; set; }

    /// <summary>The address connected to, when known.</summary>
    public string? Address { get; set; }

    /// <summary>How long the TCP connect took, when known.</summary>
    public TimeSpan? ConnectTime { get; set; }

    /// <summary>Why the certificate was rejected, in words; null when accepted.</summary>
    public string? VerifyError { get; set; }

    /// <summary>The server's leaf certificate, when one was seen.</summary>
    public TlsCertificateSummary? Certificate { get; set; }

    public bool HandshakeDone { get; set; }

    public string? Protocol { get; set; }

    public string? Cipher { get; set; }

    /// <summary>Records the negotiated parameters of a finished handshake.</summary>
    public void Completed(SslStream stream)
    {
        HandshakeDone = true;
        Protocol = stream.SslProtocol switch
        {
            System.Security.Authentication.SslProtocols.Tls12 => "TLS 1.2",
            System.Security.Authentication.SslProtocols.Tls13 => "TLS 1.3",
            var p => p.ToString(),
        };
        Cipher = stream.NegotiatedCipherSuite.ToString();
    }

    /// <summary>The facts for a result, or null when no handshake got as far as a certificate.</summary>
    public TlsFacts? ToFacts() => Certificate is null && Protocol is null
        ? null
        : new TlsFacts(Protocol, Cipher, Certificate?.Subject, Certificate?.Issuer, Certificate?.NotAfter, Certificate?.Sans ?? [], VerifyError);
}

/// <summary>The certificate facts an application check reports beside its result.</summary>
public sealed record TlsFacts(string? Protocol, string? Cipher, string? Subject, string? Issuer, string? NotAfter, IReadOnlyList<string> Sans, string? VerifyError);

/// <summary>The few leaf-certificate facts a rejection message and a result need.</summary>
public sealed record TlsCertificateSummary(string Subject, string Issuer, string NotAfter, string? CommonName, IReadOnlyList<string> Sans)
{
    public static TlsCertificateSummary From(X509Certificate2 cert)
    {
        var sans = cert.Extensions.OfType<X509SubjectAlternativeNameExtension>()
            .SelectMany(e => e.EnumerateDnsNames().Concat(e.EnumerateIPAddresses().Select(ip => ip.ToString())))
            .ToList();
        var cn = cert.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
        return new TlsCertificateSummary(cert.Subject, cert.Issuer,
            cert.NotAfter.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss+00:00", CultureInfo.InvariantCulture),
            string.IsNullOrEmpty(cn) ? null : cn, sans);
    }

    /// <summary>The names a certificate is for, as a person would list them.</summary>
    public string Names() => Sans.Count > 0 ? string.Join(", ", Sans) : CommonName ?? Subject;
}
