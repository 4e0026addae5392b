using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Catalog;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>
/// The checks corrected by public evidence (issue 19), each against the real-like fake (passes) and against the
/// broken variants (fails with its kind): Call Settings' 400, the DMS Digest challenge, the Xsi-Events channel,
/// OCI-P 22V5 on TLS, the Authentication Service's mutual TLS; and the confidence every result carries.
/// </summary>
public sealed class AppTestEvidenceTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>
{
    private const string DmsUser = "0004f2000001";
    private const string DmsPassword = "Dm5-dev1ce-Pa55&<w>";

    private static JsonObject Short => new() { ["timeout"] = 1.0, ["ca_pem"] = BroadWorksLab.CaPem };

    private JsonObject DmsData(string? user = null, string? password = null)
    {
        var data = lab.TestData();
        data["dms_url"] = "dms/Polycom_VVX/0004f2000001.cfg";
        if (user is not null)
        {
            data["dms_user"] = user;
            data["dms_password"] = password;
        }
        return data;
    }

    private JsonObject MtlsData(bool withCertificate, string? certPem = null, string? keyPem = null)
    {
        var data = lab.TestData();
        data["ports"]!["https"] = lab.Web.MtlsPort;
        if (withCertificate)
        {
            data["client_cert_pem"] = certPem ?? FixtureCertificates.Instance.ClientCertPem;
            data["client_key_pem"] = keyPem ?? FixtureCertificates.Instance.ClientKeyPem;
        }
        return data;
    }

    // ---- BWCallSettingsWeb ----

    [Fact]
    public async Task CallSettings_real_like_400_only_post_supported_is_deployed()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("BWCallSettingsWeb");
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(400, result["details"]!["https"]!["status"]!.GetValue<int>());
        Assert.Equal(400, result["details"]!["http"]!["status"]!.GetValue<int>());
        Assert.Equal("medium", result["details"]!["confidence"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(FaultMode.NotFound, "http_status", "404")]
    [InlineData(FaultMode.Status500, "http_status", "500")]
    public async Task CallSettings_404_and_5xx_stay_failures(FaultMode fault, string kind, string words)
    {
        lab.Heal();
        lab.Web.Fault = fault;
        try
        {
            BroadWorksLab.AssertFailed(await lab.RunOneAsync("BWCallSettingsWeb", null, Short), kind, words);
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task CallSettings_refused_is_a_failure()
    {
        var data = lab.TestData();
        data["ports"]!["http"] = AppTestApplicationTests.ClosedPort();
        data["ports"]!["https"] = AppTestApplicationTests.ClosedPort();
        BroadWorksLab.AssertFailed(await lab.RunOneAsync("BWCallSettingsWeb", data, Short), "refused", "connection refused");
    }

    // ---- BroadworksDms ----

    [Fact]
    public async Task Dms_digest_challenge_without_device_credentials_is_up_and_says_so()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("BroadworksDms", DmsData());
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        var https = result["details"]!["https"]!;
        Assert.Equal(401, https["status"]!.GetValue<int>());
        Assert.Equal("Digest", https["challenge"]!.GetValue<string>());
        Assert.Contains("credentials required", https["note"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dms_with_device_credentials_answers_the_digest_challenge()
    {
        lab.Heal();
        lab.Web.DmsUsers[DmsUser] = DmsPassword;
        try
        {
            var result = await lab.RunOneAsync("BroadworksDms", DmsData(DmsUser, DmsPassword));
            Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
            Assert.Equal(200, result["details"]!["https"]!["status"]!.GetValue<int>());
            Assert.Equal(200, result["details"]!["http"]!["status"]!.GetValue<int>());
            Assert.DoesNotContain(DmsPassword, result.ToJsonString());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task Dms_wrong_device_credentials_are_auth_failed_not_up()
    {
        lab.Heal();
        lab.Web.DmsUsers[DmsUser] = DmsPassword;
        try
        {
            var result = await lab.RunOneAsync("BroadworksDms", DmsData(DmsUser, "wrong-device-password"));
            BroadWorksLab.AssertFailed(result, "auth_failed", "401 Unauthorized");
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task Dms_404_stays_not_found()
    {
        lab.Heal();
        lab.Web.Fault = FaultMode.NotFound;
        try
        {
            BroadWorksLab.AssertFailed(await lab.RunOneAsync("BroadworksDms", DmsData(), Short), "http_status", "DMS check failed");
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task Dms_basic_challenge_is_not_taken_for_the_digest_one()
    {
        lab.Heal();
        // Xsi-Actions' Basic 401 under the DMS path: only a Digest challenge means "DMS up".
        var data = DmsData();
        data["dms_url"] = "com.broadsoft.xsi-actions/v2.0/user/x/profile";
        BroadWorksLab.AssertFailed(await lab.RunOneAsync("BroadworksDms", data), "auth_failed", "401 Unauthorized");
    }

    // ---- Xsi-Events ----

    [Fact]
    public async Task XsiEvents_opens_a_streamed_channel_reports_its_set_up_time_and_deletes_it()
    {
        lab.Heal();
        var opened = lab.Web.ChannelsOpened;
        var watch = Stopwatch.StartNew();
        var result = await lab.RunOneAsync("Xsi-Events", null, new JsonObject { ["timeout"] = 10.0, ["ca_pem"] = BroadWorksLab.CaPem });
        watch.Stop();
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        foreach (var scheme in new[] { "http", "https" })
        {
            var channel = result["details"]!["channel"]![scheme]!;
            Assert.True(channel["ok"]!.GetValue<bool>(), channel.ToJsonString());
            Assert.Equal(200, channel["status"]!.GetValue<int>());
            Assert.Matches("^[0-9a-f-]{36}$", channel["channel_id"]!.GetValue<string>());
            Assert.InRange(channel["setup_seconds"]!.GetValue<double>(), 0, 5);
            Assert.True(channel["deleted"]!.GetValue<bool>());
            Assert.Equal(200, channel["delete_status"]!.GetValue<int>());
            // The versions GET stays where the original had it, as a fallback detail.
            Assert.Equal(200, result["details"]![scheme]!["status"]!.GetValue<int>());
        }
        Assert.Contains(lab.Web.Requests, r => r == "POST /com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel");
        Assert.Equal(opened + 2, lab.Web.ChannelsOpened);
        Assert.Empty(lab.Web.OpenChannels);
        // The streamed body never ends while the channel lives: the check did not wait for it (10 s timeout).
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), watch.Elapsed.ToString());
    }

    [Fact]
    public async Task XsiEvents_against_a_server_without_channels_fails_and_keeps_versions_as_detail()
    {
        lab.Heal();
        lab.Web.Variant = FakeVariant.Assumed;
        try
        {
            var result = await lab.RunOneAsync("Xsi-Events", null, Short);
            BroadWorksLab.AssertFailed(result, "http_status", "XSI-Events check failed: channel");
            Assert.Contains("404", result["error"]!.GetValue<string>());
            Assert.True(result["details"]!["https"]!["ok"]!.GetValue<bool>());
            Assert.Equal(["channel http", "channel https"], result["failed_checks"]!.AsArray().Select(n => n!.GetValue<string>()).Order());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task XsiEvents_wrong_password_is_auth_failed_and_opens_nothing()
    {
        lab.Heal();
        var opened = lab.Web.ChannelsOpened;
        var result = await lab.RunOneAsync("Xsi-Events", lab.TestData("not-the-password"), Short);
        BroadWorksLab.AssertFailed(result, "auth_failed", "401 Unauthorized");
        Assert.Equal(opened, lab.Web.ChannelsOpened);
    }

    [Fact]
    public async Task XsiEvents_a_channel_that_never_arrives_times_out()
    {
        lab.Heal();
        lab.Web.PathFaults["/com.broadsoft.async"] = FaultMode.NeverAnswer;
        try
        {
            BroadWorksLab.AssertFailed(await lab.RunOneAsync("Xsi-Events", null, Short), "timeout", "timed out after 1.0 s");
        }
        finally
        {
            lab.Heal();
        }
    }

    // ---- OpenClientServer over TLS ----

    [Fact]
    public async Task Oci_tls_falls_back_to_signed_14sp4_when_22V5_gets_an_ErrorResponse()
    {
        lab.Heal();
        lab.OciTls.Variant = FakeVariant.Assumed;
        try
        {
            var result = await lab.RunOneAsync("OpenClientServer");
            var tls = result["details"]!["oci_tls"]!;
            Assert.True(tls["ok"]!.GetValue<bool>(), tls.ToJsonString());
            Assert.Equal("LoginRequest14sp4", tls["login"]!.GetValue<string>());
            Assert.Equal(["LoginRequest22V5", "AuthenticationRequest", "LoginRequest14sp4", "LogoutRequest"],
                tls["requests"]!.AsArray().Select(r => r!["request"]!.GetValue<string>()));
            Assert.Equal("ErrorResponse", tls["requests"]![0]!["response"]!.GetValue<string>());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task Oci_tls_real_like_rejects_the_signed_form_so_the_old_check_would_have_failed()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("OpenClientServer", lab.TestData("not-the-password"));
        BroadWorksLab.AssertFailed(result, "auth_failed", "OpenClientServer login failed");
        var tls = result["details"]!["oci_tls"]!;
        // Both forms tried on 2209, both rejected, both reasons given.
        Assert.Contains("LoginRequest22V5 rejected: [Error 4962] Invalid password", tls["error"]!.GetValue<string>());
        Assert.Contains("LoginRequest14sp4 rejected: [Error 4961]", tls["error"]!.GetValue<string>());
        // The algorithm the server asked for is reported on a failed login too.
        Assert.Equal("MD5", result["details"]!["oci"]!["password_algorithm"]!.GetValue<string>());
        // 2208 never sends the password itself, not even as a fallback.
        Assert.Equal(["AuthenticationRequest", "LoginRequest14sp4"], result["details"]!["oci"]!["requests"]!.AsArray().Select(r => r!["request"]!.GetValue<string>()));
        Assert.DoesNotContain(lab.Oci.RawRequests, r => r.Contains("LoginRequest22V5", StringComparison.Ordinal));
    }

    // ---- AuthenticationService ----

    [Fact]
    public async Task AuthService_without_client_certificate_is_mtls_required_not_down()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("AuthenticationService", MtlsData(false));
        BroadWorksLab.AssertFailed(result, "mtls_required", "give test_data.client_cert_pem and client_key_pem");
    }

    [Fact]
    public async Task AuthService_with_the_client_certificate_gets_a_token()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("AuthenticationService", MtlsData(true));
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(200, result["details"]!["https"]!["status"]!.GetValue<int>());
        Assert.DoesNotContain("PRIVATE KEY", result.ToJsonString());
    }

    [Fact]
    public async Task AuthService_with_a_certificate_the_server_refuses_is_mtls_required()
    {
        lab.Heal();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var other = new CertificateRequest("CN=someone-else", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var result = await lab.RunOneAsync("AuthenticationService", MtlsData(true, other.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem()));
        BroadWorksLab.AssertFailed(result, "mtls_required", "refused the client certificate given");
    }

    [Fact]
    public async Task AuthService_real_like_is_not_on_the_ordinary_interface()
    {
        lab.Heal();
        BroadWorksLab.AssertFailed(await lab.RunOneAsync("AuthenticationService"), "http_status", "404");
    }

    [Fact]
    public async Task A_client_certificate_without_its_key_or_not_pem_is_a_400_naming_the_field()
    {
        var data = lab.TestData();
        data["client_cert_pem"] = FixtureCertificates.Instance.ClientCertPem;
        var missing = await lab.Service.PostTaskAsync(lab.Payload(["AuthenticationService"], data));
        Assert.Equal(400, (int)missing.StatusCode);
        Assert.Contains("client_key_pem", await missing.Content.ReadAsStringAsync());

        data["client_key_pem"] = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----";
        var bad = await lab.Service.PostTaskAsync(lab.Payload(["AuthenticationService"], data));
        Assert.Equal(400, (int)bad.StatusCode);
        var body = await bad.Content.ReadAsStringAsync();
        Assert.Contains("client_cert_pem", body);
        Assert.DoesNotContain("not a key", body);
    }

    [Fact]
    public async Task A_dms_user_with_a_line_break_is_a_400_naming_the_field()
    {
        var data = DmsData("dev\r\nX-Injected: 1", "p");
        var response = await lab.Service.PostTaskAsync(lab.Payload(["BroadworksDms"], data));
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("test_data.dms_user", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public void A_catalog_that_would_send_the_oci_password_in_clear_or_misplace_the_new_fields_is_refused()
    {
        const string json = """
            {"default_ports": {"oci": 2208, "oci_tls": 2209, "http": 80, "https": 443, "sip": 5060, "sips": 5061},
             "sources": {"s": "x"},
             "applications": [{"name": "A", "summary": "a", "confidence": "high", "confidence_note": "n", "sources": ["s"], "context_path": "/a",
               "checks": [{"name": "c", "kind": "oci_p", "port": "oci", "login": ["LoginRequest22V5"]},
                          {"name": "d", "kind": "xsi_events_channel", "schemes": ["https"], "path": "{context}/channel", "delete_path": "{context}/channel"},
                          {"name": "e", "kind": "oci_p", "port": "oci", "challenge_ok": "Digest", "auth": "ntlm"}]}]}
            """;
        var ex = Assert.Throws<InvalidDataException>(() => ApplicationCatalog.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))));
        Assert.Contains("A.c: LoginRequest22V5 sends the password in clear: only on a tls check", ex.Message);
        Assert.Contains("A.d: delete_path must contain {channel_id}", ex.Message);
        Assert.Contains("A.e: auth must be none, basic or digest", ex.Message);
        Assert.Contains("A.e: challenge_ok is for http checks", ex.Message);
    }

    // ---- confidence ----

    [Theory]
    [InlineData("BWReceptionist")]
    [InlineData("PublicReporting")]
    [InlineData("ModeratorClientApp")]
    public async Task Low_confidence_applications_say_so_in_their_results(string application)
    {
        lab.Heal();
        var ok = await lab.RunOneAsync(application);
        Assert.Equal("low", ok["confidence"]!.GetValue<string>());
        Assert.Equal("low", ok["details"]!["confidence"]!.GetValue<string>());
        Assert.Contains("no public evidence", ok["details"]!["confidence_note"]!.GetValue<string>());

        lab.Web.Fault = FaultMode.Status500;
        try
        {
            var failed = await lab.RunOneAsync(application, null, Short);
            Assert.Contains("check by hand", failed["error"]!.GetValue<string>());
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public void Every_low_or_medium_application_cites_its_sources_and_the_CVE_only_for_names()
    {
        var catalog = ApplicationCatalog.LoadEmbedded();
        Assert.Contains("names only", catalog.Document.Sources["cve-2023-20238"]);
        foreach (var app in catalog.Applications)
        {
            Assert.NotEmpty(app.Sources);
            // The advisory gives no paths: an application whose only source it is cannot be more than low.
            if (app.Sources.SequenceEqual(["cve-2023-20238"]))
            {
                Assert.Equal("low", app.Confidence);
                Assert.Contains("no public evidence", app.ConfidenceNote);
            }
        }
        Assert.Equal(["BWReceptionist", "ModeratorClientApp", "PublicReporting"],
            catalog.Applications.Where(a => a.Confidence == "low").Select(a => a.Name).Order());
    }

    // ---- secrets ----

    [Fact]
    public void Dms_password_and_client_key_are_secrets_like_the_password()
    {
        var arguments = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject
            {
                ["h"] = new JsonObject
                {
                    ["test_data"] = new JsonObject
                    {
                        ["password"] = "p1", ["dms_user"] = DmsUser, ["dms_password"] = DmsPassword,
                        ["client_cert_pem"] = FixtureCertificates.Instance.ClientCertPem, ["client_key_pem"] = FixtureCertificates.Instance.ClientKeyPem,
                    },
                },
            }),
        };
        var secrets = new ArgumentSecrets(new EphemeralDataProtectionProvider());
        var stored = secrets.Protect(arguments).ToJsonString();
        Assert.DoesNotContain(DmsPassword, stored);
        Assert.DoesNotContain("PRIVATE KEY", stored);
        Assert.Equal(arguments.ToJsonString(), secrets.Unprotect(JsonNode.Parse(stored)!).ToJsonString());

        var masked = ArgumentSecrets.MaskAll(arguments)["args"]![0]!["h"]!["test_data"]!;
        Assert.Equal(ArgumentSecrets.Mask, masked["dms_password"]!.GetValue<string>());
        Assert.Equal(ArgumentSecrets.Mask, masked["client_key_pem"]!.GetValue<string>());
        Assert.Equal(DmsUser, masked["dms_user"]!.GetValue<string>());
        Assert.Contains("BEGIN CERTIFICATE", masked["client_cert_pem"]!.GetValue<string>());

        var data = new Tasks.AppTestData
        {
            UserId = "u", Password = "p1", Ports = new Dictionary<string, int>(), ContextPaths = new Dictionary<string, string>(),
            DmsUser = DmsUser, DmsPassword = DmsPassword, ClientKeyPem = FixtureCertificates.Instance.ClientKeyPem,
        };
        Assert.DoesNotContain(DmsPassword, data.ToString());
        Assert.DoesNotContain("PRIVATE KEY", data.ToString());
    }

    [Fact]
    public void The_redactor_scrubs_every_secret_of_the_test_data_and_the_basic_credential_of_the_first()
    {
        var redactor = new Probes.SecretRedactor(["Pw-1<x>", DmsPassword, null], "user@example.com");
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("user@example.com:Pw-1<x>"));
        var text = redactor.Redact($"a Pw-1&lt;x&gt; b {Uri.EscapeDataString(DmsPassword)} c {DmsPassword} d {basic}")!;
        Assert.Equal("a ****** b ****** c ****** d ******", text);
    }

    [Fact]
    public async Task Dms_password_and_client_key_never_reach_stored_arguments_answers_or_logs()
    {
        lab.Heal();
        lab.Web.DmsUsers[DmsUser] = DmsPassword;
        try
        {
            var data = DmsData(DmsUser, DmsPassword);
            data["client_cert_pem"] = FixtureCertificates.Instance.ClientCertPem;
            data["client_key_pem"] = FixtureCertificates.Instance.ClientKeyPem;
            var id = await lab.Service.SubmitAsync(lab.Payload(["BroadworksDms", "AuthenticationService"], data));
            var done = await lab.Service.WaitAsync(id);
            Assert.True(done["result"]!["results"]!["127.0.0.1"]!["BroadworksDms"]!["ok"]!.GetValue<bool>(), done.ToJsonString());
            var stored = (await lab.Service.Services.GetRequiredService<ITaskStore>().GetAsync(Guid.Parse(id), CancellationToken.None))!;
            var history = await lab.Service.Http.GetStringAsync($"/task/{id}");
            foreach (var text in new[] { stored.Arguments, stored.Result ?? "", done.ToJsonString(), history, lab.Service.Logs.All })
            {
                Assert.DoesNotContain(DmsPassword, text);
                Assert.DoesNotContain("PRIVATE KEY", text);
            }
            Assert.Contains(ArgumentSecrets.Mask, stored.Arguments);
        }
        finally
        {
            lab.Heal();
        }
    }
}
