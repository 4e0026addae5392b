using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Catalog;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>The original README's payload, the password's whereabouts, argument validation and the catalog itself.</summary>
public sealed class AppTestPayloadTests(BroadWorksLab lab) : IClassFixture<BroadWorksLab>
{
    private static readonly string[] ReadmeApplications =
        ["OpenClientServer", "BWCallCenter", "BWReceptionist", "OCIOverSoap", "Xsi-Actions", "Xsi-Events", "PublicReporting"];

    /// <summary>The README's apptest payload with its two hosts moved to loopback and its ports overridden.</summary>
    private JsonObject ReadmePayload()
    {
        var hosts = new JsonObject();
        foreach (var host in new[] { "127.0.0.1", "localhost" })
        {
            hosts[host] = new JsonObject
            {
                ["ports"] = new JsonArray(80, 443, 2208, 2209, 8011, 8012),
                ["applications"] = new JsonArray([.. ReadmeApplications.Select(a => (JsonNode)a)]),
                ["test_data"] = lab.TestData(),
            };
        }
        return new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(hosts),
                ["kwargs"] = new JsonObject { ["timeout"] = 5.0, ["verify_ssl"] = true, ["ca_pem"] = BroadWorksLab.CaPem },
            },
        };
    }

    [Fact]
    public async Task The_original_readme_payload_runs_and_every_application_answers()
    {
        lab.Heal();
        var result = await lab.Service.RunAsync(ReadmePayload(), TimeSpan.FromSeconds(60));
        var summary = result["summary"]!;
        Assert.Equal(2, summary["hosts"]!.GetValue<int>());
        Assert.Equal(14, summary["apps_attempted"]!.GetValue<int>());
        Assert.True(summary["duration_sec"]!.GetValue<double>() >= 0);
        Assert.True(summary["features"]!["have_zeep"]!.GetValue<bool>());
        Assert.True(summary["features"]!["xsi_events_channel"]!.GetValue<bool>());
        Assert.True(summary["features"]!["dms_digest"]!.GetValue<bool>());
        Assert.True(summary["ok"]!.GetValue<bool>(), result.ToJsonString());
        foreach (var host in new[] { "127.0.0.1", "localhost" })
        {
            var apps = result["results"]![host]!.AsObject();
            Assert.Equal(ReadmeApplications.Order(), apps.Select(a => a.Key).Order());
            Assert.All(apps, a =>
            {
                Assert.True(a.Value!["ok"]!.GetValue<bool>(), $"{host} {a.Key}: {a.Value.ToJsonString()}");
                Assert.Null(a.Value["error"]?.GetValue<string>());
                Assert.IsType<JsonObject>(a.Value["details"]);
            });
        }
    }

    [Fact]
    public async Task The_password_appears_nowhere_in_the_stored_task_the_result_or_the_logs()
    {
        lab.Heal();
        // Servers that quote requests back (the password included) in their errors, on every application.
        lab.Web.PathFaults["/webservice"] = FaultMode.EchoRequest;
        lab.Web.PathFaults["/com.broadsoft.xsi-events"] = FaultMode.EchoRequest;
        try
        {
            var payload = ReadmePayload();
            foreach (var (_, host) in payload["data"]!["args"]![0]!.AsObject())
            {
                host!["applications"]!.AsArray().Add("AuthenticationService");
                host["applications"]!.AsArray().Add("SipOptions");
            }
            var id = await lab.Service.SubmitAsync(payload);
            var status = await lab.Service.WaitAsync(id, TimeSpan.FromSeconds(60));
            Assert.Equal("SUCCESS", status["state"]!.GetValue<string>());
            var result = status["result"]!.AsObject();
            // The echoing servers did answer: their errors are in the result, with the password masked.
            var soap = result["results"]!["127.0.0.1"]!["OCIOverSoap"]!;
            Assert.False(soap["ok"]!.GetValue<bool>());
            Assert.Contains("could not process request", soap["error"]!.GetValue<string>());
            var events = result["results"]!["127.0.0.1"]!["Xsi-Events"]!["details"]!["https"]!["summary_english"]!.GetValue<string>();
            Assert.Contains(SecretMask, events);

            var stored = await lab.Service.Services.GetRequiredService<ITaskStore>().GetAsync(Guid.Parse(id), CancellationToken.None);
            var everything = string.Join("\n", stored!.Arguments, stored.Result, status.ToJsonString(), lab.Service.Logs.All);
            Assert.DoesNotContain(BroadWorksLab.Password, everything);
            Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{BroadWorksLab.User}:{BroadWorksLab.Password}")), everything);
            Assert.Contains("\"password\":\"******\"", stored.Arguments);
            Assert.NotEmpty(lab.Service.Logs.Lines);
        }
        finally
        {
            lab.Heal();
        }
    }

    private const string SecretMask = "******";

    [Theory]
    [InlineData("{\"bad host!\": {\"applications\": [\"Xsi-Actions\"]}}", "data[\"bad host!\"]")]
    [InlineData("{\"h.example\": {\"applications\": \"Xsi-Actions\"}}", "data[\"h.example\"].applications")]
    [InlineData("{\"h.example\": {\"applications\": [], \"test_data\": {\"ports\": {\"oci\": 70000}}}}", "data[\"h.example\"].test_data.ports.oci")]
    [InlineData("{\"h.example\": {\"applications\": [], \"test_data\": {\"ports\": {\"ocitls\": 2209}}}}", "data[\"h.example\"].test_data.ports.ocitls")]
    [InlineData("{\"h.example\": {\"applications\": [], \"test_data\": {\"schemes\": [\"ftp\"]}}}", "data[\"h.example\"].test_data.schemes[0]")]
    [InlineData("{\"h.example\": {\"applications\": [], \"test_data\": {\"context_paths\": {\"CommPilot\": \"no-slash\"}}}}", "data[\"h.example\"].test_data.context_paths.CommPilot")]
    [InlineData("{\"h.example\": {\"applications\": [], \"test_data\": {\"user_id\": 5}}}", "data[\"h.example\"].test_data.user_id")]
    public async Task Bad_arguments_are_400_naming_the_field(string data, string field)
    {
        var payload = new JsonObject { ["task_name"] = "apptest.run", ["data"] = new JsonObject { ["args"] = new JsonArray(JsonNode.Parse(data)) } };
        using var response = await lab.Service.PostTaskAsync(payload);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal(field, body["field"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("timeout", "0")]
    [InlineData("timeout", "1000")]
    [InlineData("verify_ssl", "\"yes\"")]
    [InlineData("ca_pem", "\"not a certificate\"")]
    public async Task Bad_kwargs_are_400_naming_the_field(string name, string value)
    {
        var payload = new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject()), ["kwargs"] = new JsonObject { [name] = JsonNode.Parse(value) } },
        };
        using var response = await lab.Service.PostTaskAsync(payload);
        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal(name, JsonNode.Parse(await response.Content.ReadAsStringAsync())!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_data_dict_form_of_the_payload_is_accepted_too()
    {
        var payload = new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject { ["127.0.0.1"] = new JsonObject { ["applications"] = new JsonArray("NoSuchApp") } },
        };
        var result = await lab.Service.RunAsync(payload);
        Assert.Equal("apptest missing", result["results"]!["127.0.0.1"]!["NoSuchApp"]!["error"]!.GetValue<string>());
    }

    [Fact]
    public void Catalog_has_every_application_with_its_source_and_confidence()
    {
        var catalog = ApplicationCatalog.LoadEmbedded();
        string[] names =
        [
            "OpenClientServer", "OCIOverSoap", "Xsi-Actions", "Xsi-Events", "BroadworksDms", "BWCallCenter", "BWReceptionist", "PublicReporting",
            "OCIFiles", "BWCallSettingsWeb", "AuthenticationService", "CommPilot", "ModeratorClientApp", "NotificationPushServer", "SipOptions",
        ];
        Assert.Equal(names.Order(), catalog.Applications.Select(a => a.Name).Order());
        Assert.All(catalog.Applications, app =>
        {
            Assert.NotEmpty(app.Sources);
            Assert.All(app.Sources, s => Assert.StartsWith("", catalog.Document.Sources[s]));
            Assert.Contains(app.Confidence, new[] { "high", "medium", "low" });
            Assert.False(string.IsNullOrWhiteSpace(app.ConfidenceNote));
            Assert.True(app.NotCheckable is not null || app.Checks.Count > 0);
        });
    }

    [Fact]
    public void A_malformed_catalog_is_refused_with_the_problem_named()
    {
        const string json = """
            {"default_ports": {"oci": 2208, "oci_tls": 2209, "http": 80, "https": 443, "sip": 5060, "sips": 5061},
             "sources": {"s": "x"},
             "applications": [{"name": "A", "summary": "a", "confidence": "sure", "confidence_note": "n", "sources": ["t"],
               "checks": [{"name": "c", "kind": "oci_p", "port": "nope"}]}]}
            """;
        var ex = Assert.Throws<InvalidDataException>(() => ApplicationCatalog.Load(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))));
        Assert.Contains("A: confidence must be high, medium or low", ex.Message);
        Assert.Contains("A: unknown source 't'", ex.Message);
        Assert.Contains("A.c: port must be one of", ex.Message);
    }
}
