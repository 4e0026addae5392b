using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Security;
using RemoteTest.Tests.Cli;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.Operations;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Tokens with an expiry, managed at run time in the task store through the admin API and the CLI: a revocation or
/// an expiry takes effect on the next request, without a restart; configuration-file tokens keep working; a revoked
/// token's schedules stop firing.
/// </summary>
public sealed class ManagedTokenTests
{
    private static Task<HttpResponseMessage> Send(ServiceHost host, HttpMethod method, string path, string token, JsonObject? body = null) =>
        host.Http.SendAsync(TestTokens.Request(method, path, token, body?.ToJsonString()));

    private static async Task<string> CreateAsync(ServiceHost host, string admin, string name, string scopes = "submit,read", string? expires = null)
    {
        var body = new JsonObject { ["name"] = name, ["scopes"] = new JsonArray(scopes.Split(',').Select(s => (JsonNode)s).ToArray()) };
        if (expires is not null)
        {
            body["expires"] = expires;
        }
        using var response = await Send(host, HttpMethod.Post, "/tokens", admin, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonNode.Parse(text)!["token"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_created_token_works_at_once_is_listed_without_secrets_and_stops_at_once_when_revoked()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        var token = await CreateAsync(host, tokens.Admin, "ci-bot", expires: "90d");
        Assert.Equal(HttpStatusCode.OK, (await Send(host, HttpMethod.Get, "/tasks", token)).StatusCode);
        // Configuration-file tokens keep working beside it.
        Assert.Equal(HttpStatusCode.OK, (await Send(host, HttpMethod.Get, "/tasks", tokens.Alice)).StatusCode);

        using var list = await Send(host, HttpMethod.Get, "/tokens", tokens.Admin);
        var listed = await list.Content.ReadAsStringAsync();
        Assert.Contains("\"ci-bot\"", listed);
        Assert.Contains("\"alice\"", listed);
        Assert.DoesNotContain(token, listed);
        Assert.DoesNotContain("sha256:", listed);
        var entry = JsonNode.Parse(listed)!["tokens"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "ci-bot")!;
        Assert.True(DateTimeOffset.Parse(entry["expires"]!.GetValue<string>()) > DateTimeOffset.UtcNow.AddDays(89));

        // Only admin manages tokens.
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(host, HttpMethod.Get, "/tokens", tokens.Alice)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(host, HttpMethod.Delete, "/tokens/ci-bot", token)).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await Send(host, HttpMethod.Delete, "/tokens/ci-bot", tokens.Admin)).StatusCode);
        using var refused = await Send(host, HttpMethod.Get, "/tasks", token);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await Send(host, HttpMethod.Delete, "/tokens/alice", tokens.Admin)).StatusCode);
    }

    [Fact]
    public async Task Bad_token_requests_are_400_naming_the_field()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        foreach (var (body, field) in new (string, string)[]
                 {
                     ("""{"name": "anonymous", "scopes": ["read"]}""", "name"),
                     ("""{"name": "x y", "scopes": ["read"]}""", "name"),
                     ("""{"name": "ok", "scopes": ["write"]}""", "scopes"),
                     ("""{"name": "ok", "scopes": ["read"], "expires": "yesterday"}""", "expires"),
                     ("""{"name": "ok", "scopes": ["read"], "expires": "2001-01-01"}""", "expires"),
                     ("""{"name": "ok", "scopes": ["read"], "owner": "root"}""", "owner"),
                 })
        {
            using var response = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/tokens", tokens.Admin, body));
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, body);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
        }
        Assert.Equal(HttpStatusCode.Conflict, (await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/tokens", tokens.Admin, """{"name": "alice", "scopes": ["read"]}"""))).StatusCode);
    }

    [Fact]
    public async Task Expired_tokens_are_refused_configured_or_managed()
    {
        var tokens = new TestTokens();
        var expired = ApiTokens.New();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new()
        {
            ["RemoteTest:Auth:Tokens:4:Name"] = "old",
            ["RemoteTest:Auth:Tokens:4:Hash"] = ApiTokens.Hash(expired),
            ["RemoteTest:Auth:Tokens:4:Scopes:0"] = "read",
            ["RemoteTest:Auth:Tokens:4:Expires"] = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("O"),
        }));
        using var old = await Send(host, HttpMethod.Get, "/tasks", expired);
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
        Assert.Contains("expired", await old.Content.ReadAsStringAsync());

        var soon = await CreateAsync(host, tokens.Admin, "short-lived", expires: DateTimeOffset.UtcNow.AddSeconds(2).ToString("O"));
        Assert.Equal(HttpStatusCode.OK, (await Send(host, HttpMethod.Get, "/tasks", soon)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        using var late = await Send(host, HttpMethod.Get, "/tasks", soon);
        Assert.Equal(HttpStatusCode.Unauthorized, late.StatusCode);
        Assert.Contains("expired", await late.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Managed_tokens_and_their_revocation_survive_a_restart()
    {
        var tokens = new TestTokens();
        var data = Directory.CreateTempSubdirectory("rt-tokens-");
        var settings = tokens.Settings(new() { ["RemoteTest:Storage:Kind"] = "embedded", ["RemoteTest:DataDirectory"] = data.FullName });
        string kept, revoked;
        await using (var first = await ServiceHost.StartAsync(settings))
        {
            kept = await CreateAsync(first, tokens.Admin, "kept");
            revoked = await CreateAsync(first, tokens.Admin, "gone");
            Assert.Equal(HttpStatusCode.NoContent, (await Send(first, HttpMethod.Delete, "/tokens/gone", tokens.Admin)).StatusCode);
        }
        await using var second = await ServiceHost.StartAsync(settings);
        Assert.Equal(HttpStatusCode.OK, (await Send(second, HttpMethod.Get, "/tasks", kept)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(second, HttpMethod.Get, "/tasks", revoked)).StatusCode);
    }

    [Fact]
    public async Task A_revoked_tokens_schedules_stop_firing()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new() { ["RemoteTest:Schedules:PollInterval"] = "00:00:01" }), TestTasks.Add);
        var token = await CreateAsync(host, tokens.Admin, "nightly-bot");
        using (var saved = await Send(host, HttpMethod.Post, "/schedules", token, new JsonObject
               {
                   ["name"] = "every-second",
                   ["task_name"] = "test.echo",
                   ["cron"] = "* * * * * *",
                   ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = new JsonObject() } },
               }))
        {
            Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        }

        async Task<int> RunsAsync()
        {
            using var response = await Send(host, HttpMethod.Get, "/task?schedule=nightly-bot:every-second&limit=500", tokens.Admin);
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["tasks"]!.AsArray().Count;
        }

        await Eventually.GetAsync(RunsAsync, n => n >= 1, TimeSpan.FromSeconds(20), "a run of the schedule");
        Assert.Equal(HttpStatusCode.NoContent, (await Send(host, HttpMethod.Delete, "/tokens/nightly-bot", tokens.Admin)).StatusCode);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var afterRevoke = await RunsAsync();
        await Task.Delay(TimeSpan.FromSeconds(4));
        Assert.Equal(afterRevoke, await RunsAsync());
        Assert.Contains(host.Logs.Lines, l => l.Contains("Schedule nightly-bot:every-second") && l.Contains("revoked"));
    }

    [Fact]
    public async Task The_cli_creates_lists_and_revokes_tokens()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings());
        using var cli = new CliRunner(host.BaseAddress);
        cli.Variables["REMOTETEST_TOKEN"] = tokens.Admin;
        var created = await cli.RunAsync("token", "create", "--name", "cli-bot", "--scopes", "read", "--expires", "30d");
        Assert.True(created.ExitCode == 0, created.ToString());
        var token = created.Out.Split('\n').Single(l => l.StartsWith("token: ")).Substring(7).Trim();
        Assert.Equal(HttpStatusCode.OK, (await Send(host, HttpMethod.Get, "/tasks", token)).StatusCode);
        var listed = await cli.RunAsync("token", "list");
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Contains("cli-bot", listed.Out);
        Assert.DoesNotContain(token, listed.Out);
        var revoked = await cli.RunAsync("token", "revoke", "cli-bot");
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(host, HttpMethod.Get, "/tasks", token)).StatusCode);

        var offline = await cli.RunAsync("token", "new", "--name", "cfg-bot", "--expires", "90d");
        Assert.True(offline.ExitCode == 0, offline.ToString());
        Assert.Contains("\"Expires\":", offline.Out);
        Assert.Contains("REMOTETEST__AUTH__TOKENS__N__EXPIRES=", offline.Out);
    }
}
