using System.Net;
using System.Text;
using RemoteTest.Security;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>Audit and text logs cannot be forged: CR, LF and other control characters from requests are escaped.</summary>
public sealed class LogForgingTests
{
    private const string Forged = "audit: admin from 10.0.0.1 submitted task 00000000-0000-0000-0000-000000000000";

    private static void AssertNoForgedLine(ServiceHost host)
    {
        foreach (var entry in host.Logs.Entries.Where(e => e.Category == AuditLog.Category))
        {
            Assert.DoesNotContain('\n', entry.Message);
            Assert.DoesNotContain('\r', entry.Message);
            Assert.DoesNotContain('\u2028', entry.Message);
        }
    }

    [Fact]
    public async Task A_request_path_with_encoded_CR_LF_cannot_forge_an_audit_line()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/task/x%0D%0A" + Uri.EscapeDataString(Forged));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");
        using var response = await host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var failed = Assert.Single(host.Logs.Entries, e => e.Category == AuditLog.Category && e.Message.Contains("authentication failed"));
        Assert.Contains("x\\r\\n" + Forged, failed.Message);
        AssertNoForgedLine(host);
    }

    [Fact]
    public async Task Argument_names_and_values_with_line_breaks_cannot_forge_an_audit_line()
    {
        await using var host = await ServiceHost.StartAsync();
        var body = "{\"task_name\": \"dns.check_records\", \"data\": {\"args\": [{\"bad\\r\\n" + Forged + "\": {\"s\": [\"1.2.3.4\"]}}]}}";
        using var response = await host.Http.PostAsync("/task", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(host.Logs.Entries, e => e.Category == AuditLog.Category && e.Message.Contains("was refused"));
        AssertNoForgedLine(host);
    }

    [Theory]
    [InlineData("a\r\nb", "a\\r\\nb")]
    [InlineData("nul\0", "nul\\u0000")]
    [InlineData("ls\u2028", "ls\\u2028")]
    [InlineData("plain /task/1", "plain /task/1")]
    public void Clean_escapes_line_breaks_and_control_characters(string raw, string logged) =>
        Assert.Equal(logged, AuditLog.Clean(raw));
}
