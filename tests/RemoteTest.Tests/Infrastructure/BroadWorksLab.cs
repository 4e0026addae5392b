using System.Text.Json.Nodes;
using RemoteTest.Fixtures.BroadWorks;
using RemoteTest.Fixtures.Sip;

namespace RemoteTest.Tests.Infrastructure;

/// <summary>
/// The fake BroadWorks servers of the apptest tests on 127.0.0.1 (OCS plain and TLS, the ADP web tier, a SIP
/// responder) and the real service; payloads point at them through <c>test_data.ports</c>.
/// </summary>
public sealed class BroadWorksLab : IAsyncLifetime
{
    public const string User = "2059784479@mymtm.us";
    public const string Password = "S3cr3t-Pa55:w0rd&<x>";

    public static readonly IReadOnlyDictionary<string, string> Users = new Dictionary<string, string> { [User] = Password };

    public FakeOciServer Oci { get; private set; } = null!;
    public FakeOciServer OciTls { get; private set; } = null!;
    public FakeBroadWorksWeb Web { get; private set; } = null!;
    public SipResponder Sip { get; private set; } = null!;
    public ServiceHost Service { get; private set; } = null!;

    public static string CaPem => FixtureCertificates.Instance.CaPem;

    public async Task InitializeAsync()
    {
        var certificates = FixtureCertificates.Instance;
        Oci = FakeOciServer.Start(Users);
        OciTls = FakeOciServer.Start(Users, certificates.Context);
        Web = await FakeBroadWorksWeb.StartAsync(Users, certificates.Server, certificates.Intermediate);
        Sip = SipResponder.Start(certificates.Context);
        Service = await ServiceHost.StartAsync();
    }

    /// <summary>Every fixture back to healthy; tests that break one call this in a finally.</summary>
    public void Heal()
    {
        Oci.Fault = OciTls.Fault = Web.Fault = Sip.Fault = FaultMode.None;
        Oci.Variant = OciTls.Variant = Web.Variant = FakeVariant.RealLike;
        Web.PathFaults.Clear();
        Web.DmsUsers.Clear();
    }

    /// <summary>test_data pointing at this lab, with the password given (or none).</summary>
    public JsonObject TestData(string? password = Password, string user = User) => new()
    {
        ["user_id"] = user,
        ["password"] = password,
        ["ports"] = Ports(),
    };

    public JsonObject Ports() => new()
    {
        ["oci"] = Oci.Port,
        ["oci_tls"] = OciTls.Port,
        ["http"] = Web.HttpPort,
        ["https"] = Web.HttpsPort,
        ["sip"] = Sip.Port,
        ["sips"] = Sip.TlsPort,
    };

    /// <summary>An apptest.run payload for one host and the given applications.</summary>
    public JsonObject Payload(IEnumerable<string> applications, JsonObject? testData = null, string host = "127.0.0.1", JsonObject? kwargs = null)
    {
        kwargs ??= new JsonObject { ["timeout"] = 5.0, ["verify_ssl"] = true, ["ca_pem"] = CaPem };
        return new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject
            {
                ["args"] = new JsonArray(new JsonObject
                {
                    [host] = new JsonObject
                    {
                        ["ports"] = new JsonArray(80, 443, 2208, 2209),
                        ["applications"] = new JsonArray([.. applications.Select(a => (JsonNode)a)]),
                        ["test_data"] = testData?.DeepClone() ?? TestData(),
                    },
                }),
                ["kwargs"] = kwargs.DeepClone(),
            },
        };
    }

    /// <summary>Runs a payload through the API and returns one application's result for the host.</summary>
    public async Task<JsonObject> RunOneAsync(string application, JsonObject? testData = null, JsonObject? kwargs = null)
    {
        var result = await Service.RunAsync(Payload([application], testData, kwargs: kwargs), TimeSpan.FromSeconds(60));
        return result["results"]!["127.0.0.1"]![application]!.AsObject();
    }

    /// <summary>Asserts a failed application result with its error_kind and words in its error.</summary>
    public static void AssertFailed(JsonObject result, string kind, string words)
    {
        Assert.False(result["ok"]!.GetValue<bool>(), result.ToJsonString());
        Assert.Equal(kind, result["error_kind"]!.GetValue<string>());
        Assert.Contains(words, result["error"]!.GetValue<string>());
    }

    public async Task DisposeAsync()
    {
        await Service.DisposeAsync();
        await Oci.DisposeAsync();
        await OciTls.DisposeAsync();
        await Web.DisposeAsync();
        await Sip.DisposeAsync();
    }
}
