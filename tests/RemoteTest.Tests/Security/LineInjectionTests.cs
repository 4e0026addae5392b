using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Probes;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Values written into OCI-P, SOAP, SIP or HTTP requests cannot carry CR, LF, NUL or other control characters
/// (400 naming the field, nothing stored); what they may carry is escaped for the protocol it enters.
/// </summary>
public sealed class LineInjectionTests
{
    public static TheoryData<string, string> Injections => new()
    {
        { "user_id", "2059784479@mymtm.us\r\nX-Injected: yes" },
        { "user_id", "alice\n<command xsi:type=\"UserDeleteRequest\"/>" },
        { "password", "pw\u0000rest" },
        { "dms_url", "dms\r\nHost: evil.example" },
        { "user_id", "bell\u0007" },
        { "user_id", "line\u2028separator" },
    };

    [Theory]
    [MemberData(nameof(Injections))]
    public async Task Control_characters_in_test_data_are_400_naming_the_field(string member, string value)
    {
        await using var host = await ServiceHost.StartAsync();
        var testData = new JsonObject { ["user_id"] = "alice@example.test", ["password"] = "pw", [member] = value };
        using var response = await host.PostTaskAsync(new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject { ["127.0.0.1"] = new JsonObject { ["applications"] = new JsonArray("OpenClientServer"), ["test_data"] = testData } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal($"data[\"127.0.0.1\"].test_data.{member}", body["field"]!.GetValue<string>());
        Assert.Contains("control character", body["error"]!.GetValue<string>());
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>("/task"))!["tasks"]!.AsArray());
    }

    [Fact]
    public async Task A_control_character_in_a_context_path_is_400_naming_it()
    {
        await using var host = await ServiceHost.StartAsync();
        using var response = await host.PostTaskAsync(new JsonObject
        {
            ["task_name"] = "apptest.run",
            ["data"] = new JsonObject
            {
                ["127.0.0.1"] = new JsonObject
                {
                    ["applications"] = new JsonArray("BWCallCenter"),
                    ["test_data"] = new JsonObject { ["context_paths"] = new JsonObject { ["BWCallCenter"] = "/callcenter\u0000" } },
                },
            },
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("data[\"127.0.0.1\"].test_data.context_paths.BWCallCenter", (await response.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
    }

    [Fact]
    public void Markup_in_a_user_id_is_escaped_in_the_oci_document_and_reads_back_unchanged()
    {
        const string userId = "a<b>&\"c'</userId><command xsi:type=\"UserDeleteRequest\">";
        var xml = OciDocument.Build("s1", "AuthenticationRequest", ("userId", userId));
        Assert.DoesNotContain("<command xsi:type=\"UserDeleteRequest\">", xml);
        Assert.Contains("&lt;", xml);
        var parsed = System.Xml.Linq.XDocument.Parse(xml);
        Assert.Equal(userId, parsed.Descendants().Single(e => e.Name.LocalName == "userId").Value);
        Assert.Single(parsed.Descendants(), e => e.Name.LocalName == "command");
    }
}
