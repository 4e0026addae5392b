using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures;
using RemoteTest.Probes;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// A server whose leaf names a missing issuer at an AIA "CA Issuers" URL must not make the worker fetch it: the
/// URL points at a denied loopback listener, which must see no connection, and the chain is reported incomplete.
/// </summary>
public sealed class CertificateDownloadTests : IDisposable
{
    private static readonly IPAddress DeniedAddress = IPAddress.Parse("127.0.0.2");
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    /// <summary>A leaf signed by the intermediate whose AIA extension sends chain builders to <paramref name="caIssuers"/>.</summary>
    private X509Certificate2 LeafPointingAt(string caIssuers)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(TestPki.Name(null, null, "localhost"), key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [caIssuers], false));
        using var signed = request.Create(_pki.Intermediate, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(12));
        return signed.CopyWithPrivateKey(key);
    }

    [Fact]
    public async Task Porttest_never_downloads_a_missing_issuer_from_a_denied_address()
    {
        await using var aia = OpenPortListener.Start(DeniedAddress);
        using var leaf = LeafPointingAt($"http://{DeniedAddress}:{aia.Port}/issuer.crt");
        // The server leaves out its intermediate: only a download could complete the chain.
        await using var server = TlsTestServer.Start(leaf);
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Targets:Deny:0"] = $"{DeniedAddress}/32",
        });
        var result = await host.RunAsync(new JsonObject
        {
            ["task_name"] = "porttest.run",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(server.Port.ToString()) } }),
                ["kwargs"] = new JsonObject { ["tls_ports"] = new JsonArray(server.Port), ["ca_pem"] = _pki.RootPem, ["timeout"] = 5 },
            },
        });

        var tls = result["results"]!["127.0.0.1"]!["ports"]![server.Port.ToString()]!["tls"]!;
        Assert.False(tls["chain_complete"]!.GetValue<bool>(), tls.ToJsonString());
        Assert.False(tls["chain_valid"]!.GetValue<bool>());
        Assert.Equal(0, aia.Accepted);
    }

    [Fact]
    public async Task Https_checks_never_download_a_missing_issuer()
    {
        await using var aia = OpenPortListener.Start(DeniedAddress);
        using var leaf = LeafPointingAt($"http://{DeniedAddress}:{aia.Port}/issuer.crt");
        await using var server = TlsTestServer.Start(leaf);
        var connector = new TargetConnector(new TcpConnector(TimeProvider.System), new SystemHostResolver(), TimeProvider.System);
        var observation = new TlsObservation { TargetHost = "127.0.0.1" };
        using var client = new HttpClient(connector.CreateHttpHandler(new TlsClientPolicy(false, [_pki.Root]), observation))
        {
            Timeout = TimeSpan.FromSeconds(5),
        };

        // The test server speaks no HTTP after the handshake; only the handshake matters here.
        await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync($"https://127.0.0.1:{server.Port}/"));

        Assert.NotNull(observation.Certificate);
        Assert.False(observation.Certificate!.ChainComplete);
        Assert.Equal(0, aia.Accepted);
    }

    [Fact]
    public async Task The_direct_handshake_never_downloads_a_missing_issuer()
    {
        await using var aia = OpenPortListener.Start(DeniedAddress);
        using var leaf = LeafPointingAt($"http://{DeniedAddress}:{aia.Port}/issuer.crt");
        await using var server = TlsTestServer.Start(leaf);
        var tcp = await new TcpConnector(TimeProvider.System).ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        await using var session = await TlsHandshake.RunAsync(tcp.GetStream(),
            new TlsHandshakeRequest("localhost", true, [_pki.Root], TimeSpan.FromSeconds(5)), TimeProvider.System, CancellationToken.None);

        Assert.False(session.Accepted);
        Assert.False(session.Certificate!.ChainComplete);
        Assert.Equal(0, aia.Accepted);
    }
}
