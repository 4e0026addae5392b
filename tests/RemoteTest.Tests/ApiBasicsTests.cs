using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

public sealed class ApiBasicsTests
{
    [Fact]
    public async Task Root_reports_version_as_the_original_did()
    {
        await using var host = await ServiceHost.StartAsync();
        var root = await host.Http.GetFromJsonAsync<JsonObject>("/");
        Assert.True(root!["ve_remote_test"]!.GetValueKind() == System.Text.Json.JsonValueKind.Number);
        Assert.Equal("RemoteTest", root["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_task_id_is_404_with_the_id()
    {
        await using var host = await ServiceHost.StartAsync();
        var id = Guid.NewGuid().ToString();
        using var response = await host.Http.GetAsync($"/task/{id}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Equal(id, body!["task_id"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["error"]!.GetValue<string>()));
    }
}
