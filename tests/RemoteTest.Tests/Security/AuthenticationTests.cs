using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Security;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>Bearer tokens: 401 without, 403 without the scope, ownership (404 for another token's task), admin sees all.</summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private readonly TestTokens _tokens = new();
    private DnsTestServer _dns = null!;
    private ServiceHost _host = null!;

    public async Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1");
        _host = await ServiceHost.StartAsync(_tokens.Settings(new() { ["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer }));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _dns.DisposeAsync();
    }

    private const string Payload = """{"task_name": "dns.check_records", "data": {"www.example.test": {"original": ["192.0.2.1"]}}}""";

    private async Task<(HttpStatusCode Status, JsonObject? Body, HttpResponseMessage Response)> Send(HttpMethod method, string path, string? token, string? json = null)
    {
        var response = await _host.Http.SendAsync(TestTokens.Request(method, path, token, json));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null, response);
    }

    [Fact]
    public async Task No_token_is_401_with_www_authenticate_and_a_json_error()
    {
        var (status, body, response) = await Send(HttpMethod.Post, "/task", null, Payload);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Bearer realm=\"RemoteTest\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Contains("Authorization: Bearer", body!["error"]!.GetValue<string>());
        Assert.Equal("Authorization", body["field"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Get, "/tasks", null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Get, $"/task/{Guid.NewGuid()}", null)).Status);
    }

    [Theory]
    [InlineData("rt_not-a-real-token")]
    [InlineData("")]
    public async Task A_wrong_token_is_401_invalid_token(string token)
    {
        var request = TestTokens.Request(HttpMethod.Get, "/tasks", null);
        request.Headers.TryAddWithoutValidation("Authorization", token.Length == 0 ? "Basic YTpi" : "Bearer " + token);
        using var response = await _host.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task The_root_answers_without_a_token_so_clients_and_probes_can_find_the_service()
    {
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/", null)).Status);
    }

    [Fact]
    public async Task A_token_without_the_scope_is_403_naming_it()
    {
        var (status, body, response) = await Send(HttpMethod.Post, "/task", _tokens.Reader, Payload);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("'submit' scope", body!["error"]!.GetValue<string>());
        Assert.Contains("error=\"insufficient_scope\"", response.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/tasks", _tokens.Reader)).Status);
    }

    [Fact]
    public async Task A_task_belongs_to_its_token_others_get_404_and_admin_sees_it()
    {
        var (status, body, _) = await Send(HttpMethod.Post, "/task", _tokens.Alice, Payload);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = body!["task_id"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/task/{id}", _tokens.Alice)).Status);
        var (bobStatus, bobBody, _) = await Send(HttpMethod.Get, $"/task/{id}", _tokens.Bob);
        Assert.Equal(HttpStatusCode.NotFound, bobStatus);
        Assert.Equal(id, bobBody!["task_id"]!.GetValue<string>());
        // The reader token holds 'read', but the task is not its own.
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/task/{id}", _tokens.Reader)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/task/{id}", _tokens.Admin)).Status);
    }

    [Fact]
    public async Task History_and_revoke_see_only_the_callers_own_tasks()
    {
        var (_, body, _) = await Send(HttpMethod.Post, "/task", _tokens.Alice, Payload);
        var id = body!["task_id"]!.GetValue<string>();
        await Eventually.GetAsync(async () => (await Send(HttpMethod.Get, $"/task/{id}", _tokens.Alice)).Body!,
            t => t["ready"]?.GetValue<bool>() == true, TimeSpan.FromSeconds(60), "the task to end");

        static IEnumerable<string> Ids(JsonObject? page) => page!["tasks"]!.AsArray().Select(t => t!["task_id"]!.GetValue<string>());
        Assert.Contains(id, Ids((await Send(HttpMethod.Get, "/task?limit=500", _tokens.Alice)).Body));
        Assert.DoesNotContain(id, Ids((await Send(HttpMethod.Get, "/task?limit=500", _tokens.Bob)).Body));
        Assert.Contains(id, Ids((await Send(HttpMethod.Get, "/task?limit=500", _tokens.Admin)).Body));
        // Bob cannot learn that the id exists: 404, where Alice gets 409 for her finished task.
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, $"/task/{id}", _tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Delete, $"/task/{id}", _tokens.Reader)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Delete, $"/task/{id}", _tokens.Alice)).Status);
    }

    [Fact]
    public async Task A_schedule_belongs_to_its_token_others_neither_see_nor_change_it()
    {
        var name = $"alice-{Guid.NewGuid():N}"[..16];
        var schedule = $$"""{"name": "{{name}}", "task_name": "dns.check_records", "cron": "0 0 1 1 *", "data": {"www.example.test": {"original": ["192.0.2.1"]} } }""";
        Assert.Equal(HttpStatusCode.Created, (await Send(HttpMethod.Post, "/schedules", _tokens.Alice, schedule)).Status);

        static IEnumerable<string> Names(JsonObject? list) => list!["schedules"]!.AsArray().Select(s => s!["name"]!.GetValue<string>());
        Assert.Contains(name, Names((await Send(HttpMethod.Get, "/schedules", _tokens.Alice)).Body));
        Assert.DoesNotContain(name, Names((await Send(HttpMethod.Get, "/schedules", _tokens.Bob)).Body));
        // Admin sees every owner's schedules, named owner:name.
        Assert.Contains($"alice:{name}", Names((await Send(HttpMethod.Get, "/schedules", _tokens.Admin)).Body));
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/schedules/alice:{name}", _tokens.Admin)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/schedules/{name}", _tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/schedules/alice:{name}", _tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, $"/schedules/{name}/run", _tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, $"/schedules/{name}", _tokens.Bob)).Status);
        // Names are per owner: Bob saving the same name gets his own schedule, and learns nothing of Alice's (issue 15, item 10).
        var (own, _, _) = await Send(HttpMethod.Post, "/schedules", _tokens.Bob, schedule);
        Assert.Equal(HttpStatusCode.Created, own);
        Assert.Single(Names((await Send(HttpMethod.Get, "/schedules", _tokens.Bob)).Body), name);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, $"/schedules/{name}", _tokens.Bob)).Status);

        // Still Alice's, unchanged, and hers to run and delete.
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/schedules/{name}", _tokens.Alice)).Status);
        var (runStatus, run, _) = await Send(HttpMethod.Post, $"/schedules/{name}/run", _tokens.Alice);
        Assert.Equal(HttpStatusCode.Accepted, runStatus);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/task/{run!["task_id"]}", _tokens.Alice)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/task/{run["task_id"]}", _tokens.Bob)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await Send(HttpMethod.Delete, $"/schedules/{name}", _tokens.Alice)).Status);
    }

    [Fact]
    public async Task Health_needs_no_token_and_metrics_need_admin()
    {
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/healthz", null)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, "/readyz", null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send(HttpMethod.Get, "/metrics", null)).Status);
        // With tokens, /metrics names every tenant's checked hosts and ports: admin only (issue 15, item 10).
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, "/metrics", _tokens.Reader)).Status);
        using var metrics = await _host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/metrics", _tokens.Admin));
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("remotetest_", await metrics.Content.ReadAsStringAsync());

        // Engine v2 has no Hangfire dashboard: /hangfire is no route, even for an admin.
        using var admin = await _host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/hangfire", _tokens.Admin));
        Assert.Equal(HttpStatusCode.NotFound, admin.StatusCode);
    }

    [Fact]
    public async Task Admin_includes_submit_and_read()
    {
        var (status, body, _) = await Send(HttpMethod.Post, "/task", _tokens.Admin, Payload);
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/task/{body!["task_id"]}", _tokens.Admin)).Status);
    }
}

/// <summary>Start-up rules: no tokens only on loopback; anonymous access when configured; the token command.</summary>
public sealed class AuthenticationStartupTests
{
    [Fact]
    public async Task Without_tokens_the_service_starts_on_loopback_with_a_warning_and_everyone_local_may_submit()
    {
        await using var host = await ServiceHost.StartAsync();
        Assert.Contains("No API tokens configured", host.Logs.All);
        using var response = await host.Http.GetAsync("/tasks");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void Without_tokens_a_non_loopback_address_is_refused_in_one_line()
    {
        var ex = Assert.Throws<StartupException>(() => Program.Build(["--urls", "http://0.0.0.0:0"],
            b => b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "memory" })));
        Assert.Contains("no API tokens are configured", ex.Message);
        Assert.Contains("http://0.0.0.0:0", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public async Task Without_tokens_a_non_loopback_address_exits_2()
    {
        var (code, output) = await ServiceProcess.RunToExitAsync(
            ["--urls=http://0.0.0.0:0", "--RemoteTest:Storage:Kind=memory"], TimeSpan.FromSeconds(60));
        Assert.Equal(2, code);
        var line = Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("remotetest: configuration error: RemoteTest:Auth: no API tokens are configured", line);
    }

    [Fact]
    public async Task Anonymous_access_when_configured_lets_a_tokenless_client_submit_on_an_exposed_address()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["urls"] = "http://0.0.0.0:0",
            ["RemoteTest:Auth:AllowAnonymous"] = "true",
        });
        using var response = await host.Http.GetAsync("/tasks");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("anonymous access is on", host.Logs.All);
    }

    [Fact]
    public async Task With_tokens_anonymous_callers_get_only_the_anonymous_scopes()
    {
        var tokens = new TestTokens();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(new()
        {
            ["RemoteTest:Auth:AllowAnonymous"] = "true",
            ["RemoteTest:Auth:AnonymousScopes:0"] = "read",
        }));
        Assert.Equal(HttpStatusCode.OK, (await host.Http.GetAsync("/tasks")).StatusCode);
        using var post = await host.Http.PostAsync("/task", new StringContent("{}"));
        Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        Assert.Contains("anonymous callers do not have the 'submit' scope", await post.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("RemoteTest:Auth:Tokens:0:Hash", "rt_plaintext", "Hash: must be 'sha256:'")]
    [InlineData("RemoteTest:Auth:Tokens:0:Scopes:0", "write", "'write' is not one of submit, read, admin")]
    [InlineData("RemoteTest:Auth:Tokens:0:Name", "anonymous", "reserved")]
    [InlineData("RemoteTest:Targets:Allow:0", "10.0.0.0/40", "Targets:Allow: '10.0.0.0/40' is not a CIDR block")]
    [InlineData("RemoteTest:Cors:AllowedOrigins:0", "not an origin", "Cors:AllowedOrigins")]
    public void Bad_security_settings_stop_start_up_naming_the_setting(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "memory",
            ["RemoteTest:Auth:Tokens:0:Name"] = "alice",
            ["RemoteTest:Auth:Tokens:0:Hash"] = ApiTokens.Hash("x"),
            ["RemoteTest:Auth:Tokens:0:Scopes:0"] = "submit",
            [key] = value,
        };
        var ex = Assert.Throws<StartupException>(() => Program.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(settings)));
        Assert.Contains(expected, ex.Message);
        Assert.DoesNotContain("rt_plaintext", ex.Message);
    }

    [Fact]
    public async Task Token_new_prints_a_token_and_the_hash_that_accepts_it()
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        Assert.Equal(0, TokenCommand.Run(["token", "new", "--name", "ci-bot", "--scopes", "submit,read"], stdout, stderr));
        var lines = stdout.ToString().Split('\n');
        var token = lines.Single(l => l.StartsWith("token: ")).Substring(7).Trim();
        var hash = lines.Single(l => l.StartsWith("hash:")).Substring(5).Trim();
        Assert.StartsWith("rt_", token);
        Assert.True(token.Length >= 40);
        Assert.Equal(ApiTokens.Hash(token), hash);
        Assert.Contains("\"Name\":\"ci-bot\"", stdout.ToString());
        Assert.Contains($"REMOTETEST__AUTH__TOKENS__N__HASH={hash}", stdout.ToString());

        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Auth:Tokens:0:Name"] = "ci-bot",
            ["RemoteTest:Auth:Tokens:0:Hash"] = hash,
            ["RemoteTest:Auth:Tokens:0:Scopes:0"] = "read",
        });
        using var ok = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", token));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var wrong = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", token + "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);

        Assert.Equal(2, TokenCommand.Run(["token", "new", "--scopes", "read"], new StringWriter(), stderr));
        Assert.Contains("--name is required", stderr.ToString());
        Assert.Equal(2, TokenCommand.Run(["token", "new", "--name", "x", "--scopes", "everything"], new StringWriter(), stderr));
    }

    [Fact]
    public async Task Token_new_is_a_subcommand_of_the_service_executable()
    {
        var (code, output) = await ServiceProcess.RunToExitAsync(["token", "new", "--name", "ops", "--scopes", "admin"], TimeSpan.FromSeconds(60));
        Assert.Equal(0, code);
        var token = output.Split('\n').Single(l => l.StartsWith("token: "))[7..].Trim();
        Assert.Contains(ApiTokens.Hash(token), output);
    }
}

/// <summary><c>remotetest token new</c> in the CLI makes tokens the service accepts, and the CLI sends them.</summary>
public sealed class CliTokenTests
{
    [Fact]
    public async Task The_cli_makes_a_token_whose_hash_the_service_accepts_and_uses_it()
    {
        using var cli = new RemoteTest.Tests.Cli.CliRunner();
        var made = await cli.RunAsync("token", "new", "--name", "ops", "--scopes", "read");
        Assert.True(made.ExitCode == 0, made.ToString());
        var token = made.Out.Split('\n').Single(l => l.StartsWith("token: "))[7..].Trim();
        var hash = made.Out.Split('\n').Single(l => l.StartsWith("hash:"))[5..].Trim();
        Assert.Equal(ApiTokens.Hash(token), hash);

        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Auth:Tokens:0:Name"] = "ops",
            ["RemoteTest:Auth:Tokens:0:Hash"] = hash,
            ["RemoteTest:Auth:Tokens:0:Scopes:0"] = "read",
        });
        using var client = new RemoteTest.Tests.Cli.CliRunner(host.BaseAddress);
        var unknown = Guid.NewGuid().ToString();
        var withToken = await client.RunAsync("task", "get", unknown, "--token", token);
        Assert.Contains("unknown task id", withToken.Out + withToken.Err);
        var without = await client.RunAsync("task", "get", unknown);
        Assert.Contains("API token", without.Out + without.Err);

        var bad = await cli.RunAsync("token", "new", "--name", "anonymous");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("reserved", bad.Err);
    }
}
