using System.Text.Json.Nodes;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>Each catalog application, through the real API, against the fake BroadWorks servers: one passing and one failing run.</summary>
public sealed class AppTestApplicationTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>
{
    public static TheoryData<string> Checkable =>
    [
        "OpenClientServer", "OCIOverSoap", "Xsi-Actions", "Xsi-Events", "BroadworksDms", "BWCallCenter", "BWReceptionist",
        "PublicReporting", "OCIFiles", "BWCallSettingsWeb", "AuthenticationService", "CommPilot", "ModeratorClientApp", "SipOptions",
    ];

    private JsonObject DataWithDms(string? application = null)
    {
        var data = lab.TestData();
        data["dms_url"] = "dms/Polycom_VVX/0004f2000001.cfg";
        if (application == "AuthenticationService")
        {
            // The real-like Authentication Service answers on its mutual-TLS interface only.
            data["ports"]!["https"] = lab.Web.MtlsPort;
            data["client_cert_pem"] = FixtureCertificates.Instance.ClientCertPem;
            data["client_key_pem"] = FixtureCertificates.Instance.ClientKeyPem;
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Checkable))]
    public async Task Healthy_application_passes(string application)
    {
        lab.Heal();
        var result = await lab.RunOneAsync(application, DataWithDms(application));
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Null(result["error"]?.GetValue<string>());
        Assert.False(result.ContainsKey("failed_checks"), result.ToJsonString());
        Assert.Contains(result["confidence"]!.GetValue<string>(), new[] { "high", "medium", "low" });
    }

    /// <summary>The failing variant of each application: what breaks, and the kind the result must name.</summary>
    public static TheoryData<string, string, string, string> Broken => new()
    {
        { "OpenClientServer", "wrong-password", ErrorKindNames.AuthFailed, "Invalid password" },
        { "OCIOverSoap", "wrong-password", ErrorKindNames.AuthFailed, "Login failed: [Error 4962] Invalid password" },
        { "Xsi-Actions", "wrong-password", ErrorKindNames.AuthFailed, "XSI-Actions checks failed" },
        { "Xsi-Events", "500", ErrorKindNames.HttpStatus, "XSI-Events check failed" },
        { "BroadworksDms", "404", ErrorKindNames.HttpStatus, "DMS check failed" },
        { "BWCallCenter", "404", ErrorKindNames.HttpStatus, "404" },
        { "BWReceptionist", "redirect", ErrorKindNames.HttpStatus, "redirected to https://127.0.0.1:1/moved/" },
        { "PublicReporting", "404", ErrorKindNames.HttpStatus, "set test_data.context_paths.PublicReporting" },
        { "OCIFiles", "500", ErrorKindNames.HttpStatus, "500" },
        { "BWCallSettingsWeb", "assumed", ErrorKindNames.HttpStatus, ": 200 OK, expected 400" },
        { "AuthenticationService", "wrong-password", ErrorKindNames.AuthFailed, "401 Unauthorized" },
        { "CommPilot", "never-answers", ErrorKindNames.Timeout, "timed out after 1.0 s" },
        { "ModeratorClientApp", "404", ErrorKindNames.HttpStatus, "404" },
        { "SipOptions", "503", ErrorKindNames.SipStatus, "SIP 503 Service Unavailable" },
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Broken_application_fails_with_its_kind(string application, string breakage, string kind, string words)
    {
        lab.Heal();
        var data = DataWithDms(application);
        switch (breakage)
        {
            case "assumed": lab.Web.Variant = lab.OciTls.Variant = FakeVariant.Assumed; break;
            case "wrong-password": data["password"] = "not-the-password"; break;
            case "500": lab.Web.Fault = FaultMode.Status500; break;
            case "404": lab.Web.Fault = FaultMode.NotFound; break;
            case "redirect": lab.Web.Fault = FaultMode.Redirect; break;
            case "garbage": lab.Web.Fault = FaultMode.Garbage; break;
            case "never-answers": lab.Web.Fault = FaultMode.NeverAnswer; break;
            case "503": lab.Sip.Fault = FaultMode.Status500; break;
        }
        try
        {
            var result = await lab.RunOneAsync(application, data, new JsonObject { ["timeout"] = 1.0, ["ca_pem"] = BroadWorksLab.CaPem });
            BroadWorksLab.AssertFailed(result, kind, words);
        }
        finally
        {
            lab.Heal();
        }
    }

    [Fact]
    public async Task NotificationPushServer_says_why_it_is_not_checkable_remotely()
    {
        var result = await lab.RunOneAsync("NotificationPushServer");
        Assert.False(result["ok"]!.GetValue<bool>());
        Assert.StartsWith("not checkable remotely: ", result["error"]!.GetValue<string>());
        Assert.Equal("not_checkable", result["error_kind"]!.GetValue<string>());
        Assert.DoesNotContain(lab.Web.Requests, r => r.Contains("/nps", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unknown_application_is_apptest_missing_as_the_original_said()
    {
        var result = await lab.RunOneAsync("NoSuchApp");
        Assert.False(result["ok"]!.GetValue<bool>());
        Assert.Equal("apptest missing", result["error"]!.GetValue<string>());
        Assert.Empty(result["details"]!.AsObject());
    }

    [Theory]
    [InlineData("OpenClientServer")]
    [InlineData("Xsi-Actions")]
    [InlineData("OCIOverSoap")]
    [InlineData("AuthenticationService")]
    public async Task Missing_credentials_give_the_original_error(string application)
    {
        var data = lab.TestData();
        data.Remove("password");
        var result = await lab.RunOneAsync(application, data);
        Assert.Equal("Missing user_id/password in test_data", result["error"]!.GetValue<string>());
        Assert.Equal("missing_input", result["error_kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Dms_without_url_gives_the_original_error()
    {
        var result = await lab.RunOneAsync("BroadworksDms");
        Assert.Equal("Missing test_data.dms_url", result["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Xsi_actions_details_keep_the_original_shape_with_status_and_timings_per_request()
    {
        lab.Heal();
        var result = await lab.RunOneAsync("Xsi-Actions");
        foreach (var check in new[] { "profile", "calls" })
        {
            foreach (var scheme in new[] { "http", "https" })
            {
                var r = result["details"]![check]![scheme]!.AsObject();
                Assert.True(r["ok"]!.GetValue<bool>(), r.ToJsonString());
                Assert.Equal(200, r["status"]!.GetValue<int>());
                foreach (var key in new[] { "duration", "ttfb", "ttfb_total", "bytes", "url" })
                {
                    Assert.True(r.ContainsKey(key), $"{key} missing in {r.ToJsonString()}");
                }
            }
        }
        Assert.Equal("127.0.0.1", result["details"]!["profile"]!["https"]!["address"]!.GetValue<string>());
        Assert.NotNull(result["details"]!["profile"]!["https"]!["tls"]!["certificate"]!["subject"]);
    }

    [Fact]
    public async Task Xsi_actions_is_ok_when_only_https_answers_and_names_the_failed_half()
    {
        lab.Heal();
        var data = lab.TestData();
        data["ports"]!["http"] = ClosedPort();
        var result = await lab.RunOneAsync("Xsi-Actions", data);
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(["profile http", "calls http"], result["failed_checks"]!.AsArray().Select(n => n!.GetValue<string>()).Order().Reverse());
        Assert.Equal("refused", result["details"]!["profile"]!["http"]!["error_kind"]!.GetValue<string>());
    }

    [Fact]
    public async Task Distinct_errors_for_401_403_refused_and_untrusted_certificate()
    {
        lab.Heal();
        var wrong = await lab.RunOneAsync("Xsi-Events", lab.TestData("wrong"));
        Assert.Contains("401 Unauthorized: credentials rejected: Authentication failed", wrong["details"]!["https"]!["error"]!.GetValue<string>());

        var forbidden = await lab.RunOneAsync("OCIFiles", null, new JsonObject { ["ca_pem"] = BroadWorksLab.CaPem });
        Assert.True(forbidden["ok"]!.GetValue<bool>(), "a 403 on /ocifiles/ means deployed");

        var data = lab.TestData();
        data["ports"]!["http"] = ClosedPort();
        var untrusted = await lab.RunOneAsync("Xsi-Events", data, new JsonObject { ["verify_ssl"] = true });
        Assert.False(untrusted["ok"]!.GetValue<bool>());
        Assert.Equal("refused", untrusted["details"]!["http"]!["error_kind"]!.GetValue<string>());
        Assert.Equal("connection refused", untrusted["details"]!["http"]!["error"]!.GetValue<string>());
        Assert.Equal("tls_verify", untrusted["details"]!["https"]!["error_kind"]!.GetValue<string>());
        Assert.Contains("untrusted root", untrusted["details"]!["https"]!["error"]!.GetValue<string>());
        Assert.Equal("tls_verify", untrusted["error_kind"]!.GetValue<string>());

        var unverified = await lab.RunOneAsync("Xsi-Events", data, new JsonObject { ["verify_ssl"] = false });
        Assert.True(unverified["ok"]!.GetValue<bool>(), unverified.ToJsonString());
    }

    [Fact]
    public async Task Context_path_override_moves_a_check()
    {
        lab.Heal();
        var data = lab.TestData();
        data["context_paths"] = new JsonObject { ["BWReceptionist"] = "/moderator" };
        var result = await lab.RunOneAsync("BWReceptionist", data);
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.EndsWith("/moderator/", result["details"]!["https"]!["url"]!.GetValue<string>());
    }

    [Fact]
    public async Task Schemes_override_runs_soap_over_plain_http()
    {
        lab.Heal();
        var data = lab.TestData();
        data["schemes"] = new JsonArray("http");
        var result = await lab.RunOneAsync("OCIOverSoap", data);
        Assert.True(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.StartsWith($"http://127.0.0.1:{lab.Web.HttpPort}/webservice/", result["details"]!["url"]!.GetValue<string>());
    }

    internal static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}

/// <summary>The error_kind strings as the wire carries them (kept here so a rename in code breaks these tests).</summary>
internal static class ErrorKindNames
{
    public const string AuthFailed = "auth_failed";
    public const string HttpStatus = "http_status";
    public const string ProtocolError = "protocol_error";
    public const string Timeout = "timeout";
    public const string SipStatus = "sip_status";
}
