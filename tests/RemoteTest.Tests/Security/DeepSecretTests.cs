using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// A secret nested as deep as a request may go: protecting it must not make a task that can never run, be listed
/// or be revoked. Either the request is refused up front (400 naming the field, nothing stored) or the task ends.
/// </summary>
public sealed class DeepSecretTests
{
    /// <summary>A porttest payload whose ignored test_data nests objects until the request is <paramref name="depth"/> deep, a password innermost.</summary>
    private static string Payload(int port, int depth, bool dataForm)
    {
        // args form: top{1} data{2} args[3] entry{4} host{5} test_data{6}; data form: top{1} data{2} host{3} test_data{4}.
        var inner = new StringBuilder("{\"password\": \"deep-s3cret\"}");
        if (dataForm)
        {
            for (var level = 4; level < depth; level++)
            {
                inner.Insert(0, "{\"n\": ").Append('}');
            }
            return "{\"task_name\": \"porttest.run\", \"data\": {\"127.0.0.1\": {\"ports\": [\"" + port + "\"], \"test_data\": " + inner + "}}}";
        }
        for (var level = 6; level < depth; level++)
        {
            inner.Insert(0, "{\"n\": ").Append('}');
        }
        return "{\"task_name\": \"porttest.run\", \"data\": {\"args\": [{\"127.0.0.1\": {\"ports\": [\"" + port + "\"], \"test_data\": " + inner + "}}], \"kwargs\": {\"timeout\": 1}}}";
    }

    [Theory]
    [InlineData(32, false)]
    [InlineData(63, false)]
    [InlineData(64, false)]
    [InlineData(65, false)]
    [InlineData(32, true)]
    [InlineData(63, true)]
    [InlineData(64, true)]
    public async Task A_deep_secret_is_refused_up_front_or_runs_and_stays_listable_and_revocable(int depth, bool dataForm)
    {
        var data = Directory.CreateTempSubdirectory("rt-deep-");
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "embedded",
            ["RemoteTest:DataDirectory"] = data.FullName,
        });
        using var response = await host.Http.PostAsync("/task", new StringContent(Payload(9, depth, dataForm), Encoding.UTF8, "application/json"));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            Assert.NotNull(body["field"]);
            Assert.Empty(JsonNode.Parse(await host.Http.GetStringAsync("/task"))!["tasks"]!.AsArray());
            return;
        }
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = body["task_id"]!.GetValue<string>();
        var status = await host.WaitAsync(id, TimeSpan.FromSeconds(20));
        Assert.True(status["ready"]!.GetValue<bool>(), status.ToJsonString());
        using var listing = await host.Http.GetAsync("/task");
        Assert.Equal(HttpStatusCode.OK, listing.StatusCode);
        Assert.DoesNotContain("deep-s3cret", await listing.Content.ReadAsStringAsync());
        using var revoke = await host.Http.DeleteAsync($"/task/{id}");
        Assert.True((int)revoke.StatusCode < 500, $"DELETE answered {(int)revoke.StatusCode}");
    }
}
