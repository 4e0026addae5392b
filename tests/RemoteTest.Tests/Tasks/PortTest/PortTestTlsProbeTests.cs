using System.Net;
using System.Security.Cryptography.X509Certificates;
using RemoteTest.Fixtures;
using RemoteTest.Probes;

namespace RemoteTest.Tests;

/// <summary>The TLS handshake probe and the certificate facts, against TLS servers the tests start on loopback.</summary>
public sealed class PortTestTlsProbeTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose() => _pki.Dispose();

    private X509Certificate2Collection Roots => [_pki.Root];

    private static async Task<TlsSession> HandshakeAsync(IPEndPoint endpoint, string name, bool verify, X509Certificate2Collection? roots, TimeSpan? timeout = null)
    {
        var tcp = await new TcpConnector(TimeProvider.System).ConnectAsync(endpoint, Timeout, CancellationToken.None);
        Assert.True(tcp.Connected, tcp.Error);
        return await TlsHandshake.RunAsync(tcp.GetStream(), new TlsHandshakeRequest(name, verify, roots, timeout ?? Timeout), TimeProvider.System, CancellationToken.None);
    }

    [Fact]
    public async Task Valid_chain_from_a_trusted_private_CA_reports_every_fact()
    {
        var notAfter = new DateTimeOffset(DateTime.UtcNow.Year + 1, 1, 5, 4, 0, 0, TimeSpan.Zero);
        using var leaf = _pki.IssueServer("localhost", ["localhost", "127.0.0.1"], notAfter: notAfter, serial: [0x00, 0x8F, 0x01, 0x02]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);

        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots);

        Assert.True(session.Accepted, session.Error);
        Assert.NotNull(session.Stream);
        Assert.Null(session.Error);
        Assert.Equal("TLS 1.3", session.Protocol);
        Assert.StartsWith("TLS_", session.Cipher);
        var c = session.Certificate!;
        Assert.Equal("localhost", c.Cn);
        Assert.Equal("commonName=localhost", c.Subject);
        Assert.Equal("countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Intermediate", c.Issuer);
        Assert.Equal("8F0102", c.SerialNumber);
        Assert.Equal($"Jan  5 04:00:00 {notAfter.Year} GMT", c.NotAfter);
        Assert.Equal($"{notAfter.Year}-01-05T04:00:00+00:00", c.ExpiresUtc);
        Assert.Equal(CertificateText.OpenSslTime(leaf.NotBefore), c.NotBefore);
        Assert.Equal((int)Math.Floor((notAfter - DateTimeOffset.UtcNow).TotalDays), c.DaysLeft);
        Assert.Equal(["localhost", "127.0.0.1"], c.Sans);
        Assert.Equal(Convert.ToHexStringLower(leaf.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256)), c.FingerprintSha256);
        Assert.Equal(64, c.FingerprintSha256.Length);
        Assert.True(c.NameMatch);
        Assert.True(c.ChainValid);
        Assert.Empty(c.ChainErrors);
        Assert.True(c.ChainOrderValid);
        Assert.True(c.ChainComplete);
        Assert.Equal(2, c.Chain.Count);
        Assert.Equal("commonName=localhost", c.Chain[0].Subject);
        Assert.Equal(c.Issuer, c.Chain[0].Issuer);
        Assert.Equal(c.NotAfter, c.Chain[0].NotAfter);
        Assert.Equal("countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Intermediate", c.Chain[1].Subject);
        Assert.Equal("countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Root", c.Chain[1].Issuer);
        Assert.Equal(c.NotAfter, c.EarliestNotAfter);
        Assert.Equal(["localhost"], server.ServerNames);
    }

    [Fact]
    public async Task Without_the_private_CA_the_same_chain_is_untrusted_but_fully_reported()
    {
        using var leaf = _pki.IssueServer("localhost", ["localhost"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);

        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, roots: null);

        Assert.False(session.Accepted);
        Assert.True(session.Established);
        Assert.Null(session.Stream);
        Assert.Equal(ErrorKind.TlsVerify, session.ErrorKind);
        Assert.Contains("untrusted root or incomplete chain", session.Error);
        Assert.Contains("RemoteTest Test Root", session.Error);
        Assert.Equal("localhost", session.Certificate!.Cn);
        Assert.False(session.Certificate.ChainValid);
        Assert.Equal("TLS 1.3", session.Protocol);
    }

    [Fact]
    public async Task Self_signed_certificate_fails_verification_in_words_and_passes_without_it()
    {
        using var leaf = TestPki.SelfSigned("self.test", ["localhost"]);
        await using var server = TlsTestServer.Start(leaf);

        await using (var verified = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots))
        {
            Assert.False(verified.Accepted);
            Assert.Equal(ErrorKind.TlsVerify, verified.ErrorKind);
            Assert.StartsWith("self-signed certificate", verified.Error);
            Assert.Equal("self.test", verified.Certificate!.Cn);
            Assert.Equal(verified.Certificate.Subject, verified.Certificate.Issuer);
            Assert.Equal("countryName=US, organizationName=Self Signed Org, commonName=self.test", verified.Certificate.Issuer);
            Assert.True(verified.Certificate.ChainComplete);
        }

        await using var unverified = await HandshakeAsync(server.EndPoint, "localhost", verify: false, Roots);
        Assert.True(unverified.Accepted);
        Assert.Null(unverified.Error);
        Assert.False(unverified.Certificate!.ChainValid);
        Assert.StartsWith("self-signed certificate", Assert.Single(unverified.Certificate.ChainErrors));
    }

    [Fact]
    public async Task A_self_signed_certificate_given_as_ca_pem_is_trusted()
    {
        using var leaf = TestPki.SelfSigned("pinned.test", ["localhost"]);
        await using var server = TlsTestServer.Start(leaf);
        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, TlsTrust.ParsePem(leaf.ExportCertificatePem(), "ca_pem"));
        Assert.True(session.Accepted, session.Error);
    }

    [Fact]
    public async Task Expired_certificate_names_the_date()
    {
        var notAfter = new DateTimeOffset(DateTime.UtcNow.Year - 1, 3, 9, 12, 30, 0, TimeSpan.Zero);
        using var leaf = _pki.IssueServer("localhost", ["localhost"], notBefore: notAfter.AddDays(-90), notAfter: notAfter);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);

        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots);

        Assert.False(session.Accepted);
        Assert.Equal(ErrorKind.TlsVerify, session.ErrorKind);
        Assert.Equal($"certificate expired on Mar  9 12:30:00 {notAfter.Year} GMT", session.Error);
        Assert.True(session.Certificate!.DaysLeft < 0);
        Assert.Equal($"Mar  9 12:30:00 {notAfter.Year} GMT", session.Certificate.NotAfter);
        Assert.True(session.Certificate.NameMatch);
    }

    [Fact]
    public async Task Not_yet_valid_certificate_names_the_start()
    {
        var notBefore = DateTimeOffset.UtcNow.AddDays(3);
        using var leaf = _pki.IssueServer("localhost", ["localhost"], notBefore: notBefore, notAfter: notBefore.AddDays(30));
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);

        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots);

        Assert.False(session.Accepted);
        Assert.Equal($"certificate is not valid before {CertificateText.OpenSslTime(leaf.NotBefore)}", session.Error);
    }

    [Fact]
    public async Task Wrong_name_says_what_the_certificate_is_for()
    {
        using var leaf = _pki.IssueServer("other.example", ["other.example", "*.other.example"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);

        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots);

        Assert.False(session.Accepted);
        Assert.Equal(ErrorKind.TlsVerify, session.ErrorKind);
        Assert.Equal("name mismatch: certificate is for other.example, *.other.example, not localhost", session.Error);
        Assert.False(session.Certificate!.NameMatch);
        Assert.True(session.Certificate.ChainValid);
        Assert.Empty(session.Certificate.ChainErrors);
    }

    [Fact]
    public async Task An_IP_target_is_matched_against_the_certificate_addresses_and_sends_no_SNI()
    {
        using var leaf = _pki.IssueServer("ip only", ["127.0.0.1"]);
        await using var server = TlsTestServer.Start(leaf, [_pki.Intermediate]);

        await using (var byIp = await HandshakeAsync(server.EndPoint, "127.0.0.1", verify: true, Roots))
        {
            Assert.True(byIp.Accepted, byIp.Error);
        }
        await using (var byName = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots))
        {
            Assert.Equal("name mismatch: certificate is for 127.0.0.1, not localhost", byName.Error);
        }
        Assert.Equal(["", "localhost"], server.ServerNames);
    }

    [Fact]
    public async Task Incomplete_chain_is_reported_even_when_the_root_is_trusted()
    {
        using var leaf = _pki.IssueServer("localhost", ["localhost"]);
        await using var server = TlsTestServer.Start(leaf, intermediates: []);

        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots);

        Assert.False(session.Accepted);
        Assert.Equal(ErrorKind.TlsVerify, session.ErrorKind);
        Assert.Equal("incomplete chain: the server did not send the certificate of its issuer " +
                     "'countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Intermediate', and it is not a trusted root", session.Error);
        var c = session.Certificate!;
        Assert.False(c.ChainComplete);
        Assert.False(c.ChainValid);
        Assert.True(c.ChainOrderValid);
        Assert.Single(c.Chain);
    }

    [Fact]
    public async Task Plain_text_on_a_TLS_port_is_explained()
    {
        await using var server = PlainTextListener.Start();
        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots);

        Assert.False(session.Accepted);
        Assert.False(session.Established);
        Assert.Equal(ErrorKind.TlsHandshake, session.ErrorKind);
        Assert.Equal("TLS handshake failed: the server answered in plain text, not TLS: 'HTTP/1.1 400 Bad Request  Content-Length: 0  Con'", session.Error);
        Assert.Null(session.Certificate);
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_handshakes_times_out()
    {
        await using var server = SilentListener.Start();
        await using var session = await HandshakeAsync(server.EndPoint, "localhost", verify: true, Roots, TimeSpan.FromSeconds(0.5));

        Assert.False(session.Accepted);
        Assert.Equal(ErrorKind.Timeout, session.ErrorKind);
        Assert.Equal("TLS handshake timed out after 0.5 s (the server accepted the connection but sent nothing)", session.Error);
        Assert.True(session.Elapsed >= TimeSpan.FromSeconds(0.45));
    }

    [Fact]
    public async Task Chain_order_and_earliest_expiry_come_from_what_was_sent()
    {
        var soon = DateTimeOffset.UtcNow.AddDays(20);
        using var leaf = _pki.IssueServer("localhost", ["localhost"], notAfter: DateTimeOffset.UtcNow.AddDays(300));
        using var inOrder = X509CertificateLoader.LoadCertificate(leaf.RawData);
        var now = DateTimeOffset.UtcNow;

        var ordered = TlsCertificateInfo.Inspect([inOrder, _pki.Intermediate], "localhost", Roots, now);
        Assert.True(ordered.ChainOrderValid);
        Assert.Equal(CertificateText.OpenSslTime(leaf.NotAfter), ordered.EarliestNotAfter);

        var reversed = TlsCertificateInfo.Inspect([inOrder, _pki.Root, _pki.Intermediate], "localhost", Roots, now);
        Assert.False(reversed.ChainOrderValid);
        Assert.True(reversed.ChainValid);
        Assert.Equal(["commonName=localhost", "countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Root",
                      "countryName=US, organizationName=RemoteTest Test PKI, commonName=RemoteTest Test Intermediate"], reversed.Chain.Select(e => e.Subject));

        using var shortLived = _pki.IssueServer("localhost", ["localhost"], notAfter: soon);
        var early = TlsCertificateInfo.Inspect([inOrder, _pki.Intermediate, shortLived], "localhost", Roots, now);
        Assert.Equal(CertificateText.OpenSslTime(shortLived.NotAfter), early.EarliestNotAfter);
    }
}
