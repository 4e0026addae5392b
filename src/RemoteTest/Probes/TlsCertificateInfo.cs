using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Probes;

/// <summary>One certificate of the chain a server sent, in the order it sent them.</summary>
public sealed record TlsChainEntry(string Subject, string Issuer, string NotAfter);

/// <summary>
/// Facts about the certificate a TLS server presented and the chain it sent: the original's fields in its
/// formats (<c>cn</c>, <c>not_after</c>, <c>expires_utc</c>, <c>issuer</c>, <c>serial_number</c>) and the
/// validation a client would do, reported as data whether or not validation is enforced.
/// Build it with <see cref="Inspect"/>; used by every probe that speaks TLS.
/// </summary>
public sealed record TlsCertificateInfo
{
    public string? Cn { get; init; }

    public required string Subject { get; init; }

    public required string Issuer { get; init; }

    public required string SerialNumber { get; init; }

    public required string NotBefore { get; init; }

    public required string NotAfter { get; init; }

    public required string ExpiresUtc { get; init; }

    public required int DaysLeft { get; init; }

    public required IReadOnlyList<string> Sans { get; init; }

    public required string FingerprintSha256 { get; init; }

    public string? ExpectedName { get; init; }

    public bool? NameMatch { get; init; }

    public required bool ChainValid { get; init; }

    public required IReadOnlyList<string> ChainErrors { get; init; }

    public required IReadOnlyList<TlsChainEntry> Chain { get; init; }

    public required string EarliestNotAfter { get; init; }

    public required bool ChainOrderValid { get; init; }

    public required bool ChainComplete { get; init; }

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    /// <summary>True when a verifying client accepts the certificate: the chain is valid and the name matches.</summary>
    public bool Valid => ChainValid && NameMatch != false;

    /// <summary>Why a verifying client refuses the certificate, in words (empty when <see cref="Valid"/>).</summary>
    public IReadOnlyList<string> VerifyErrors => NameMatch == false ? [.. ChainErrors, NameMismatchText()] : ChainErrors;

    /// <summary>
    /// Inspects <paramref name="sent"/> (the certificates as the server sent them, the server's own first) and
    /// validates the chain against the system's roots plus <paramref name="extraRoots"/> at <paramref name="now"/>.
    /// <paramref name="expectedName"/> is the DNS name or IP address the client asked for (null: not checked).
    /// Nothing is fetched from the network: revocation is not checked and missing intermediates are not downloaded,
    /// so <c>chain_complete</c> says what the server itself sent.
    /// </summary>
    public static TlsCertificateInfo Inspect(
        IReadOnlyList<X509Certificate2> sent,
        string? expectedName,
        X509Certificate2Collection? extraRoots,
        DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfZero(sent.Count);
        var leaf = sent[0];
        var sans = SubjectAlternativeNames(leaf);
        var (chainValid, chainErrors, complete) = Validate(sent, extraRoots, now);
        return new TlsCertificateInfo
        {
            Cn = CertificateText.Attribute(leaf.SubjectName, "commonName"),
            Subject = CertificateText.Name(leaf.SubjectName),
            Issuer = CertificateText.Name(leaf.IssuerName),
            SerialNumber = CertificateText.Serial(leaf.SerialNumberBytes.ToArray()),
            NotBefore = CertificateText.OpenSslTime(leaf.NotBefore),
            NotAfter = CertificateText.OpenSslTime(leaf.NotAfter),
            ExpiresUtc = CertificateText.IsoUtc(leaf.NotAfter),
            DaysLeft = (int)Math.Floor((leaf.NotAfter.ToUniversalTime() - now.UtcDateTime).TotalDays),
            Sans = sans,
            FingerprintSha256 = Convert.ToHexStringLower(leaf.GetCertHash(HashAlgorithmName.SHA256)),
            ExpectedName = expectedName,
            NameMatch = expectedName is null ? null : MatchesName(leaf, expectedName),
            ChainValid = chainValid,
            ChainErrors = chainErrors,
            Chain = [.. sent.Select(c => new TlsChainEntry(CertificateText.Name(c.SubjectName), CertificateText.Name(c.IssuerName), CertificateText.OpenSslTime(c.NotAfter)))],
            EarliestNotAfter = CertificateText.OpenSslTime(sent.Min(c => c.NotAfter.ToUniversalTime())),
            ChainOrderValid = OrderValid(sent),
            ChainComplete = complete,
        };
    }

    private string NameMismatchText()
    {
        var names = Sans.Count > 0 ? string.Join(", ", Sans) : Cn ?? "no name";
        return $"name mismatch: certificate is for {names}, not {ExpectedName}";
    }

    private static bool MatchesName(X509Certificate2 leaf, string name)
    {
        try
        {
            return leaf.MatchesHostname(name);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static IReadOnlyList<string> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var extension = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (extension is null)
        {
            return [];
        }
        try
        {
            return [.. extension.EnumerateDnsNames(), .. extension.EnumerateIPAddresses().Select(a => a.ToString())];
        }
        catch (CryptographicException)
        {
            return [];
        }
    }

    /// <summary>Each certificate is issued by the next one, as TLS requires the server to send them.</summary>
    private static bool OrderValid(IReadOnlyList<X509Certificate2> sent)
    {
        for (var i = 0; i + 1 < sent.Count; i++)
        {
            if (!sent[i].IssuerName.RawData.AsSpan().SequenceEqual(sent[i + 1].SubjectName.RawData))
            {
                return false;
            }
        }
        return true;
    }

    private static (bool Valid, IReadOnlyList<string> Errors, bool Complete) Validate(
        IReadOnlyList<X509Certificate2> sent, X509Certificate2Collection? extraRoots, DateTimeOffset now)
    {
        var system = Build(sent, null, now, out var valid);
        var chosen = system;
        try
        {
            // Extra roots are added to, not swapped for, the system's: .NET trusts either the system store or a
            // custom one, so a chain the system cannot anchor is built again against the extra roots alone.
            if (!valid && HasTrustProblem(system) && extraRoots is { Count: > 0 })
            {
                chosen = Build(sent, extraRoots, now, out valid);
            }
            var complete = !chosen.ChainStatus.Any(s => s.Status.HasFlag(X509ChainStatusFlags.PartialChain));
            return (valid, Describe(chosen, now), complete);
        }
        finally
        {
            system.Dispose();
            if (!ReferenceEquals(chosen, system))
            {
                chosen.Dispose();
            }
        }
    }

    private static X509Chain Build(IReadOnlyList<X509Certificate2> sent, X509Certificate2Collection? roots, DateTimeOffset now, out bool valid)
    {
        var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now.UtcDateTime;
        policy.ApplicationPolicy.Add(new Oid(ServerAuthentication));
        policy.ExtraStore.AddRange(sent.Skip(1).ToArray());
        if (roots is not null)
        {
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.AddRange(roots);
        }
        valid = chain.Build(sent[0]);
        return chain;
    }

    private static bool HasTrustProblem(X509Chain chain) =>
        chain.ChainStatus.Any(s => (s.Status & (X509ChainStatusFlags.PartialChain | X509ChainStatusFlags.UntrustedRoot)) != 0);

    /// <summary>The chain's problems in words an engineer acts on, one per problem, leaf first.</summary>
    private static IReadOnlyList<string> Describe(X509Chain chain, DateTimeOffset now)
    {
        var errors = new List<string>();
        var elements = chain.ChainElements;
        for (var i = 0; i < elements.Count; i++)
        {
            var cert = elements[i].Certificate;
            var who = i == 0 ? "certificate" : $"issuer certificate '{CertificateText.Name(cert.SubjectName)}'";
            foreach (var status in elements[i].ChainElementStatus)
            {
                var text = Describe(status, cert, who, i, elements.Count, now);
                if (text is not null && !errors.Contains(text))
                {
                    errors.Add(text);
                }
            }
        }
        if (errors.Count == 0)
        {
            // Problems reported only for the chain as a whole.
            foreach (var status in chain.ChainStatus)
            {
                var text = Describe(status, elements.Count > 0 ? elements[^1].Certificate : null, "certificate", 0, elements.Count, now);
                if (text is not null && !errors.Contains(text))
                {
                    errors.Add(text);
                }
            }
        }
        return errors;
    }

    private static string? Describe(X509ChainStatus status, X509Certificate2? cert, string who, int index, int count, DateTimeOffset now)
    {
        var flag = status.Status;
        if (flag == X509ChainStatusFlags.NoError)
        {
            return null;
        }
        if (cert is null)
        {
            return Fallback(status);
        }
        var subject = CertificateText.Name(cert.SubjectName);
        var issuer = CertificateText.Name(cert.IssuerName);
        var selfIssued = cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData);
        return flag switch
        {
            X509ChainStatusFlags.NotTimeValid when now.UtcDateTime > cert.NotAfter.ToUniversalTime() =>
                $"{who} expired on {CertificateText.OpenSslTime(cert.NotAfter)}",
            X509ChainStatusFlags.NotTimeValid =>
                $"{who} is not valid before {CertificateText.OpenSslTime(cert.NotBefore)}",
            X509ChainStatusFlags.UntrustedRoot when count == 1 && selfIssued =>
                "self-signed certificate (not a trusted root; add it with ca_pem to trust it)",
            X509ChainStatusFlags.UntrustedRoot =>
                $"untrusted root: '{subject}' is not a trusted root (add it with ca_pem)",
            X509ChainStatusFlags.PartialChain when index == 0 && !IsCertificateAuthority(cert) =>
                $"incomplete chain: the server did not send the certificate of its issuer '{issuer}', and it is not a trusted root",
            X509ChainStatusFlags.PartialChain =>
                $"untrusted root or incomplete chain: the issuer '{issuer}' of '{subject}' was not sent by the server and is not a trusted root",
            X509ChainStatusFlags.NotSignatureValid => $"{who} has an invalid signature",
            X509ChainStatusFlags.NotValidForUsage => $"{who} is not valid for server authentication (extended key usage)",
            X509ChainStatusFlags.InvalidBasicConstraints => $"{who} is not allowed to issue certificates (basic constraints)",
            X509ChainStatusFlags.Revoked => $"{who} is revoked",
            X509ChainStatusFlags.ExplicitDistrust => $"{who} is explicitly distrusted",
            X509ChainStatusFlags.RevocationStatusUnknown or X509ChainStatusFlags.OfflineRevocation => null,
            _ => Fallback(status),
        };
    }

    private static string Fallback(X509ChainStatus status)
    {
        var info = status.StatusInformation.Trim();
        return string.IsNullOrEmpty(info) ? status.Status.ToString() : $"{status.Status}: {info}";
    }

    private static bool IsCertificateAuthority(X509Certificate2 cert) =>
        cert.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);
}
