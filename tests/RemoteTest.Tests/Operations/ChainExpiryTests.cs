using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using RemoteTest.Engine;
using RemoteTest.Fixtures;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Fixtures.Sip;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Operations;

/// <summary>
/// The earliest expiry over the whole chain a server sent — an intermediate that expires before its leaf — in
/// remotetest_ssl_earliest_cert_expiry and notify: cert_expiry, from porttest and from apptest's TLS checks.
/// </summary>
public sealed class ChainExpiryTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task An_intermediate_expiring_before_the_leaf_drives_the_metric_and_the_alert()
    {
        var intermediateEnd = DateTimeOffset.UtcNow.AddDays(10.5);
        using var pki = TestPki.Create("RemoteTest Short Intermediate", intermediateEnd);
        var leafEnd = DateTimeOffset.UtcNow.AddDays(90);
        await using var tls = TlsTestServer.Start(pki.IssueServer("localhost", ["localhost", "127.0.0.1"], notAfter: leafEnd), [pki.Intermediate]);
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await ServiceHost.StartAsync();
        using (var created = await host.Http.PostAsJsonAsync("/schedules", new JsonObject
        {
            ["name"] = "chain",
            ["task_name"] = "porttest.run",
            ["cron"] = "0 6 * * 1",
            ["webhook"] = receiver.Url,
            ["notify"] = "cert_expiry",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject { ["127.0.0.1"] = new JsonObject { ["ports"] = new JsonArray(tls.Port) } }),
                ["kwargs"] = new JsonObject { ["tls_ports"] = new JsonArray(tls.Port), ["ca_pem"] = pki.RootPem, ["timeout"] = 5 },
            },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using var run = await host.Http.PostAsync("/schedules/chain/run", null);
        var id = (await run.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        var status = await host.WaitAsync(id);
        Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
        // The leaf itself is fine: 89 days left.
        Assert.True(status["result"]!["results"]!["127.0.0.1"]!["ports"]![tls.Port.ToString(CultureInfo.InvariantCulture)]!["tls"]!["days_left"]!.GetValue<int>() >= 89);

        await receiver.WaitForAsync(1, Wait);
        var alert = Assert.Single(receiver.Received).Json;
        Assert.Equal("cert_expiry", alert["event"]!.GetValue<string>());
        var summary = alert["summary"]!.GetValue<string>();
        Assert.StartsWith($"127.0.0.1:{tls.Port}: chain certificate '", summary);
        Assert.Contains("RemoteTest Test Intermediate", summary);
        Assert.Contains("expires in 10 days", summary);

        var expiry = await Eventually.GetAsync(async () => ObservabilityTests.Parse(await host.Http.GetStringAsync("/metrics"))
                .Where(s => s.Name == "remotetest_ssl_earliest_cert_expiry" && s.Labels.GetValueOrDefault("port") == tls.Port.ToString(CultureInfo.InvariantCulture)).ToList(),
            l => l.Count > 0, Wait, "the certificate series");
        Assert.Equal(pki.Intermediate.NotAfter.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds, Assert.Single(expiry).Value, 0);
    }

    [Fact]
    public async Task Apptest_certificates_on_oci_p_2209_and_sip_tls_feed_the_same_observations_and_metric()
    {
        var intermediateEnd = DateTimeOffset.UtcNow.AddDays(5.5);
        using var pki = TestPki.Create("RemoteTest Short Intermediate Apps", intermediateEnd);
        var server = pki.IssueServer("adp.short.test", ["127.0.0.1"], notAfter: DateTimeOffset.UtcNow.AddDays(200));
        var context = System.Net.Security.SslStreamCertificateContext.Create(server, new X509Certificate2Collection(pki.Intermediate), offline: true);
        await using var oci = FakeOciServer.Start(BroadWorksLab.Users, context);
        await using var sip = SipResponder.Start(context);
        var data = lab.TestData();
        data["ports"]!["oci_tls"] = oci.Port;
        data["ports"]!["sips"] = sip.TlsPort;
        data["sip_transports"] = new JsonArray("tls");

        var result = await lab.Service.RunAsync(lab.Payload(["OpenClientServer", "SipOptions"], data,
            kwargs: new JsonObject { ["ca_pem"] = pki.RootPem, ["timeout"] = 5.0 }), TimeSpan.FromSeconds(60));
        var observed = ResultObservations.From(result.ToJsonString(), DateTimeOffset.UtcNow);
        var expected = new DateTimeOffset(pki.Intermediate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        foreach (var port in new[] { oci.Port, sip.TlsPort })
        {
            var cert = Assert.Single(observed.Certificates, c => c.Endpoint == $"127.0.0.1:{port}");
            Assert.Equal(expected, cert.NotAfter);
            Assert.InRange(cert.DaysLeft, 5, 6);
            Assert.Contains("RemoteTest Test Intermediate", cert.Subject);
        }

        var series = await Eventually.GetAsync(async () => ObservabilityTests.Parse(await lab.Service.Http.GetStringAsync("/metrics"))
                .Where(s => s.Name == "remotetest_ssl_earliest_cert_expiry" && s.Labels.GetValueOrDefault("port") == oci.Port.ToString(CultureInfo.InvariantCulture)).ToList(),
            l => l.Count > 0, Wait, "the OCI-P certificate series");
        Assert.Equal(expected.ToUnixTimeSeconds(), Assert.Single(series).Value);
    }
}
