using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>
/// A private test CA and a server certificate it issued for the loopback names the fake BroadWorks servers answer
/// on (127.0.0.1, 127.0.0.2, ::1, localhost); tests trust the CA through <c>ca_pem</c>. Made once per test run.
/// </summary>
public sealed class FixtureCertificates
{
    private static readonly Lazy<FixtureCertificates> Shared = new(() => new FixtureCertificates());

    private FixtureCertificates()
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=RemoteTest Fixture CA, O=RemoteTest", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-90), DateTimeOffset.UtcNow.AddYears(2));
        CaPem = ca.ExportCertificatePem();
        Server = Issue(ca, "CN=adp.fixture.test", DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        Expired = Issue(ca, "CN=expired.fixture.test", DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
    }

    public static FixtureCertificates Instance => Shared.Value;

    /// <summary>The CA certificate as PEM, for <c>ca_pem</c>.</summary>
    public string CaPem { get; }

    /// <summary>The server certificate (with its private key) for every loopback name.</summary>
    public X509Certificate2 Server { get; }

    /// <summary>A certificate from the same CA that expired yesterday.</summary>
    public X509Certificate2 Expired { get; }

    private static X509Certificate2 Issue(X509Certificate2 ca, string subject, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var sans = new SubjectAlternativeNameBuilder();
        sans.AddDnsName("localhost");
        sans.AddIpAddress(IPAddress.Loopback);
        sans.AddIpAddress(IPAddress.Parse("127.0.0.2"));
        sans.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(sans.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var issued = request.Create(ca, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        using var withKey = issued.CopyWithPrivateKey(key);
        // A PKCS#12 round trip gives a key that SslStream and Kestrel can use on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
