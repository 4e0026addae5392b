using System.Text.Json.Nodes;
using RemoteTest.Fixtures;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Fixtures.Sip;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>Refused certificates on the TLS checks, and the task deadline with the concurrency cap.</summary>
public sealed class AppTestTlsAndDeadlineTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>
{
    [Fact]
    public async Task Expired_certificate_on_2209_and_wrong_name_on_5061_are_tls_verify_with_the_reason()
    {
        using var pki = TestPki.Create("RemoteTest Bad Certificates");
        var expired = pki.IssueServer("ocs.expired.test", ["127.0.0.1"], DateTimeOffset.UtcNow.AddDays(-60), DateTimeOffset.UtcNow.AddDays(-2));
        var wrongName = pki.IssueServer("sbc.elsewhere.test", ["sbc.elsewhere.test"]);
        await using var oci = FakeOciServer.Start(BroadWorksLab.Users,
            System.Net.Security.SslStreamCertificateContext.Create(expired, new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(pki.Intermediate), offline: true));
        await using var sip = SipResponder.Start(System.Net.Security.SslStreamCertificateContext.Create(wrongName, new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(pki.Intermediate), offline: true));
        var data = lab.TestData();
        data["ports"]!["oci_tls"] = oci.Port;
        data["ports"]!["sips"] = sip.TlsPort;
        data["sip_transports"] = new JsonArray("tls");
        var kwargs = new JsonObject { ["ca_pem"] = pki.RootPem };

        var ocs = await lab.RunOneAsync("OpenClientServer", data, kwargs);
        var tls = ocs["details"]!["oci_tls"]!;
        Assert.Equal("tls_verify", tls["error_kind"]!.GetValue<string>());
        Assert.Contains("expired", tls["error"]!.GetValue<string>());
        Assert.Equal("commonName=ocs.expired.test", tls["tls"]!["certificate"]!["subject"]!.GetValue<string>());
        Assert.Empty(oci.Received);

        var sipResult = await lab.RunOneAsync("SipOptions", data, kwargs);
        BroadWorksLab.AssertFailed(sipResult, "tls_verify", "sbc.elsewhere.test");
        Assert.False(sipResult["details"]!["tls"]!["tls"]!["certificate"]!["name_match"]!.GetValue<bool>());
        Assert.Empty(sip.Received);

        var unverified = await lab.RunOneAsync("SipOptions", data, new JsonObject { ["verify_ssl"] = false });
        Assert.True(unverified["ok"]!.GetValue<bool>(), unverified.ToJsonString());
    }

    [Fact]
    public async Task A_check_still_waiting_at_the_task_deadline_says_so()
    {
        lab.Heal();
        lab.Web.Fault = FaultMode.NeverAnswer;
        try
        {
            await using var service = await ServiceHost.StartAsync(new Dictionary<string, string?>
            {
                ["RemoteTest:AppTest:MaxConcurrentChecks"] = "1",
                ["RemoteTest:AppTest:DeadlineTimeouts"] = "1",
            });
            var data = lab.TestData();
            data["schemes"] = new JsonArray("http");
            var payload = lab.Payload(["Xsi-Events", "BWCallCenter", "CommPilot", "ModeratorClientApp"], data,
                kwargs: new JsonObject { ["timeout"] = 1.0 });
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = await service.RunAsync(payload, TimeSpan.FromSeconds(60));
            clock.Stop();
            var apps = result["results"]!["127.0.0.1"]!.AsObject();
            // One probe at a time, 1 s each, a 2 s deadline: the first ones time out by themselves, the rest meet the deadline.
            Assert.Contains(apps, a => a.Value!["error"]!.GetValue<string>().Contains("timed out after 1.0 s", StringComparison.Ordinal));
            Assert.Contains(apps, a => a.Value!["error"]!.GetValue<string>().Contains("task deadline of 2 s reached", StringComparison.Ordinal));
            Assert.All(apps, a => Assert.Equal("timeout", a.Value!["error_kind"]!.GetValue<string>()));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        }
        finally
        {
            lab.Heal();
        }
    }
}
