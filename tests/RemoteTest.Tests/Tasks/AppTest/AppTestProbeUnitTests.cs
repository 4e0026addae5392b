using System.Text.Json.Nodes;
using RemoteTest.Probes;
using RemoteTest.Tasks;

namespace RemoteTest.Tests;

/// <summary>The pure parts of the apptest probes: OCI documents, the signed password, redaction.</summary>
public sealed class AppTestProbeUnitTests
{
    [Theory]
    [InlineData("MD5", "c3daee7279e4b01a92ace72159d545ed")]
    [InlineData("SHA", "7316e06de6c8854e0cf65ffee5511a9534f23b3c")]
    public void Signed_password_is_the_hash_of_nonce_and_sha1_of_the_password(string algorithm, string expected) =>
        Assert.Equal(expected, OciPassword.Sign("1234567890abcdef", "secret", algorithm));

    [Fact]
    public void Request_documents_escape_values_and_carry_the_session()
    {
        var xml = OciDocument.Build("s-1", "AuthenticationRequest", ("userId", "a&b<c>@example.com"));
        Assert.StartsWith("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", xml);
        Assert.Contains("<BroadsoftDocument protocol=\"OCI\" ", xml);
        Assert.Contains(" xmlns=\"C\"><sessionId xmlns=\"\">s-1</sessionId><command xsi:type=\"AuthenticationRequest\" xmlns=\"\">", xml);
        Assert.Contains("<userId>a&amp;b&lt;c&gt;@example.com</userId>", xml);
        var parsed = System.Xml.Linq.XDocument.Parse(xml[xml.IndexOf('<', 1)..]).Root!;
        Assert.Equal("s-1", parsed.Elements().First(e => e.Name.LocalName == "sessionId").Value);
        Assert.Equal("AuthenticationRequest", parsed.Elements().First(e => e.Name.LocalName == "command").Attribute(System.Xml.Linq.XName.Get("type", OciDocument.XsiNamespace))!.Value);
    }

    [Fact]
    public void Error_responses_are_known_by_their_type_not_by_the_word_error()
    {
        const string ok = """<BroadsoftDocument protocol="OCI" xmlns="C" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sessionId xmlns="">s</sessionId><command xsi:type="UserGetResponse23" xmlns=""><lastName>Error</lastName><department>ErrorResponse handling</department></command></BroadsoftDocument>""";
        const string error = """<BroadsoftDocument protocol="OCI" xmlns="C" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sessionId xmlns="">s</sessionId><command type="Error" echo="" xsi:type="c:ErrorResponse" xmlns:c="C" xmlns=""><errorCode>4962</errorCode><summary>[Fehler 4962] Ungültiges Passwort</summary><summaryEnglish>[Error 4962] Invalid password</summaryEnglish></command></BroadsoftDocument>""";
        Assert.False(OciDocument.ParseResponse(ok).IsError);
        var parsed = OciDocument.ParseResponse(error);
        Assert.True(parsed.IsError);
        Assert.Equal("ErrorResponse", parsed.Type);
        Assert.Equal("[Error 4962] Invalid password (errorCode 4962)", parsed.ErrorText());
        Assert.Throws<ProtocolViolation>(() => OciDocument.ParseResponse("<Other/>"));
        Assert.Throws<System.Xml.XmlException>(() => OciDocument.ParseResponse("not xml"));
    }

    [Fact]
    public void Redactor_masks_every_form_of_the_secret_in_text_and_json()
    {
        const string secret = "p&ss w<rd";
        var redactor = new SecretRedactor(secret, "user");
        var basic = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"user:{secret}"));
        var text = $"a {secret} b p&amp;ss w&lt;rd c p%26ss%20w%3Crd d {basic}";
        Assert.Equal("a ****** b ****** c ****** d ******", redactor.Redact(text));
        var json = new JsonObject { ["x"] = new JsonArray($"[{secret}]"), [secret] = "k" };
        redactor.RedactAll(json);
        Assert.DoesNotContain(secret, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
        Assert.Null(SecretRedactor.None.Redact(null));
    }

    [Fact]
    public void Test_data_never_prints_its_password()
    {
        var data = AppTestData.Empty with { UserId = "u", Password = "hunter2" };
        Assert.DoesNotContain("hunter2", data.ToString());
        Assert.DoesNotContain("hunter2", new AppTestHost("h", "h", [], data).ToString());
    }
}
