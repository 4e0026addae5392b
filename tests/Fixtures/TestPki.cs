using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Fixtures;

/// <summary>
/// A private PKI generated for one test with <see cref="CertificateRequest"/>: a root CA, an intermediate CA,
/// and server certificates with chosen names and dates. Nothing touches a certificate store.
/// </summary>
public sealed class TestPki : IDisposable
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private TestPki(X509Certificate2 root, X509Certificate2 intermediate)
    {
        Root = root;
        Intermediate = intermediate;
    }

    public X509Certificate2 Root { get; }
    public X509Certificate2 Intermediate { get; }

    /// <summary>The root as PEM, what a client passes as <c>ca_pem</c>.</summary>
    public string RootPem => Root.ExportCertificatePem();

    /// <summary>
    /// A root valid ten years either side of now and an intermediate it signed, valid nine years unless
    /// <paramref name="intermediateNotAfter"/> ends it sooner (an intermediate that expires before its leaves).
    /// </summary>
    public static TestPki Create(string organization = "RemoteTest Test PKI", DateTimeOffset? intermediateNotAfter = null)
    {
        var now = DateTimeOffset.UtcNow;
        var root = CreateAuthority(Name("US", organization, "RemoteTest Test Root"), null, now.AddYears(-10), now.AddYears(10));
        var intermediate = CreateAuthority(Name("US", organization, "RemoteTest Test Intermediate"), root, now.AddYears(-9), intermediateNotAfter ?? now.AddYears(9));
        return new TestPki(root, intermediate);
    }

    /// <summary>A distinguished name encoded in the usual order: countryName, organizationName, commonName.</summary>
    public static X500DistinguishedName Name(string? country, string? organization, string commonName)
    {
        // The builder encodes the attributes last-added first, so they are added in reverse.
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(commonName);
        if (organization is not null)
        {
            builder.AddOrganizationName(organization);
        }
        if (country is not null)
        {
            builder.AddCountryOrRegion(country);
        }
        return builder.Build();
    }

    /// <summary>A server certificate for <paramref name="names"/> (DNS names or IP literals) signed by the intermediate.</summary>
    public X509Certificate2 IssueServer(string commonName, string[] names, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, byte[]? serial = null) =>
        CreateServer(Name(null, null, commonName), names, Intermediate, notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(90), serial);

    /// <summary>A self-signed server certificate.</summary>
    public static X509Certificate2 SelfSigned(string commonName, string[] names, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null) =>
        CreateServer(Name("US", "Self Signed Org", commonName), names, null, notBefore ?? DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(90), null);

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
    }

    private static X509Certificate2 CreateAuthority(X500DistinguishedName subject, X509Certificate2? issuer, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null)
        {
            return request.CreateSelfSigned(notBefore, notAfter);
        }
        using var signed = request.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        return signed.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 CreateServer(X500DistinguishedName subject, string[] names, X509Certificate2? issuer, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[]? serial)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        if (names.Length > 0)
        {
            var san = new SubjectAlternativeNameBuilder();
            foreach (var name in names)
            {
                if (IPAddress.TryParse(name, out var ip))
                {
                    san.AddIpAddress(ip);
                }
                else
                {
                    san.AddDnsName(name);
                }
            }
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        if (issuer is null)
        {
            return request.CreateSelfSigned(notBefore, notAfter);
        }
        if (notAfter > issuer.NotAfter)
        {
            // A leaf that outlives its intermediate (a chain whose intermediate expires first): .NET refuses that
            // through the certificate overload, so sign with the issuer's key and name directly.
            using var issuerKey = issuer.GetECDsaPrivateKey()!;
            using var outliving = request.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), notBefore, notAfter,
                serial ?? RandomNumberGenerator.GetBytes(12));
            return outliving.CopyWithPrivateKey(key);
        }
        using var signed = request.Create(issuer, notBefore, notAfter, serial ?? RandomNumberGenerator.GetBytes(12));
        return signed.CopyWithPrivateKey(key);
    }
}
