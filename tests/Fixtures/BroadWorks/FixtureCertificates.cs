using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>
/// The certificates of the fake BroadWorks servers, from the shared <see cref="TestPki"/>: a server certificate for
/// the loopback names they answer on (127.0.0.1, 127.0.0.2, ::1, localhost), sent with its intermediate; tests
/// trust the root through <c>ca_pem</c>. Made once per test run.
/// </summary>
public sealed class FixtureCertificates
{
    private static readonly Lazy<FixtureCertificates> Shared = new(() => new FixtureCertificates());
    private readonly TestPki _pki = TestPki.Create("RemoteTest BroadWorks Fixtures");

    private FixtureCertificates()
    {
        Server = _pki.IssueServer("adp.fixture.test", ["localhost", "127.0.0.1", "127.0.0.2", "::1"]);
        Context = SslStreamCertificateContext.Create(Server, new X509Certificate2Collection(_pki.Intermediate), offline: true);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=remotetest-client.fixture.test", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        Client = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(90));
        ClientCertPem = Client.ExportCertificatePem();
        ClientKeyPem = key.ExportPkcs8PrivateKeyPem();
    }

    /// <summary>The client certificate the fake mutual-TLS interface accepts (and no other).</summary>
    public X509Certificate2 Client { get; }

    /// <summary>The client certificate as PEM, for <c>test_data.client_cert_pem</c>.</summary>
    public string ClientCertPem { get; }

    /// <summary>Its private key as PEM, for <c>test_data.client_key_pem</c>.</summary>
    public string ClientKeyPem { get; }

    public static FixtureCertificates Instance => Shared.Value;

    /// <summary>The root as PEM, for <c>ca_pem</c>.</summary>
    public string CaPem => _pki.RootPem;

    /// <summary>The server certificate (with its private key).</summary>
    public X509Certificate2 Server { get; }

    /// <summary>The intermediate the server certificate was issued by; servers send it along.</summary>
    public X509Certificate2 Intermediate => _pki.Intermediate;

    /// <summary>Certificate and chain for an <see cref="SslStream"/> server.</summary>
    public SslStreamCertificateContext Context { get; }
}
