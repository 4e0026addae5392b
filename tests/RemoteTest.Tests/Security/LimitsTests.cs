using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>Rate limits per token, queued tasks per token, the queue's length, and per-task sizes.</summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private readonly TestTokens _tokens = new();
    private DnsTestServer _dns = null!;

    public Task InitializeAsync()
    {
        _dns = DnsTestServer.Start().A("www.example.test", "192.0.2.1").Silent("hold.example.test");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _dns.DisposeAsync();

    private static string Payload(string domain = "www.example.test", double timeout = 2) => new JsonObject
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { [domain] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }),
            ["kwargs"] = new JsonObject { ["timeout"] = timeout },
        },
    }.ToJsonString();

    private Dictionary<string, string?> Settings(Dictionary<string, string?> more)
    {
        more["RemoteTest:Dns:DefaultNameservers:0"] = _dns.NameServer;
        return _tokens.Settings(more);
    }

    [Fact]
    public async Task Each_token_has_its_own_rate_limit_with_headers_on_every_answer_and_429_with_retry_after_past_it()
    {
        await using var host = await ServiceHost.StartAsync(Settings(new()
        {
            ["RemoteTest:Limits:RateLimit:PermitLimit"] = "5",
            ["RemoteTest:Limits:RateLimit:Window"] = "01:00:00",
        }));

        for (var i = 0; i < 5; i++)
        {
            using var ok = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", _tokens.Alice));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("5", ok.Headers.GetValues("X-RateLimit-Limit").Single());
            Assert.Equal((4 - i).ToString(), ok.Headers.GetValues("X-RateLimit-Remaining").Single());
            var reset = int.Parse(ok.Headers.GetValues("X-RateLimit-Reset").Single());
            Assert.InRange(reset, 1, 3600);
        }

        using var limited = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Alice, Payload()));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.InRange(limited.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 3600);
        Assert.Equal("0", limited.Headers.GetValues("X-RateLimit-Remaining").Single());
        var body = (await limited.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("rate limit exceeded", body["error"]!.GetValue<string>());
        Assert.Contains("rate limited (token:alice)", host.Logs.All);

        // Another token is not affected; a 404 carries the headers too.
        using var bob = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, $"/task/{Guid.NewGuid()}", _tokens.Bob));
        Assert.Equal(HttpStatusCode.NotFound, bob.StatusCode);
        Assert.Equal("4", bob.Headers.GetValues("X-RateLimit-Remaining").Single());

        // Callers without a valid token are limited by address, and their 401 says so too.
        using var anonymous = await host.Http.GetAsync("/tasks");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("5", anonymous.Headers.GetValues("X-RateLimit-Limit").Single());
    }

    [Fact]
    public async Task A_token_may_carry_its_own_rate_limit()
    {
        var settings = Settings(new() { ["RemoteTest:Limits:RateLimit:PermitLimit"] = "100" });
        settings["RemoteTest:Auth:Tokens:1:RateLimit"] = "1";
        await using var host = await ServiceHost.StartAsync(settings);
        using var first = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", _tokens.Bob));
        Assert.Equal("1", first.Headers.GetValues("X-RateLimit-Limit").Single());
        using var second = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", _tokens.Bob));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        using var alice = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", _tokens.Alice));
        Assert.Equal(HttpStatusCode.OK, alice.StatusCode);
    }

    [Fact]
    public async Task A_token_with_too_many_tasks_queued_gets_429_and_others_still_submit()
    {
        await using var host = await ServiceHost.StartAsync(Settings(new()
        {
            ["RemoteTest:Limits:MaxQueuedTasksPerToken"] = "2",
            ["RemoteTest:Worker:Concurrency"] = "1",
        }));
        for (var i = 0; i < 2; i++)
        {
            using var accepted = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Alice, Payload("hold.example.test", 10)));
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }
        using var refused = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Alice, Payload()));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Contains("token 'alice' has 2 tasks queued or running; at most 2", await refused.Content.ReadAsStringAsync());
        Assert.Contains("was refused (429) on queued", host.Logs.All);

        using var bob = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", _tokens.Bob, Payload()));
        Assert.Equal(HttpStatusCode.Accepted, bob.StatusCode);
    }

    [Fact]
    public async Task A_queue_over_its_limit_answers_503_with_retry_after()
    {
        await using var host = await ServiceHost.StartAsync(Settings(new()
        {
            ["RemoteTest:Limits:MaxQueueLength"] = "1",
            ["RemoteTest:Limits:QueueRetryAfter"] = "00:00:07",
            ["RemoteTest:Worker:Concurrency"] = "1",
        }));
        host.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", _tokens.Alice);
        // The first task holds the only worker on a silent name; the second waits in the queue.
        var running = await host.SubmitAsync(JsonNode.Parse(Payload("hold.example.test", 10))!);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while ((await host.Http.GetFromJsonAsync<JsonObject>($"/task/{running}"))!["state"]!.GetValue<string>() != "STARTED" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        await host.SubmitAsync(JsonNode.Parse(Payload("hold.example.test", 10))!);

        using var refused = await host.Http.PostAsync("/task", new StringContent(Payload()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter!.Delta);
        Assert.Contains("queue 'default' holds 1 tasks waiting", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Domains_per_task_and_the_timeout_are_bounded()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Limits:MaxDomainsPerTask"] = "2",
            ["RemoteTest:Limits:MaxTimeoutSeconds"] = "5",
        });
        var data = new JsonObject();
        foreach (var d in new[] { "a.test", "b.test", "c.test" })
        {
            data[d] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") };
        }
        using var many = await host.Http.PostAsync("/task", new StringContent(new JsonObject { ["task_name"] = "dns.check_records", ["data"] = data }.ToJsonString()));
        Assert.Equal(HttpStatusCode.BadRequest, many.StatusCode);
        Assert.Contains("at most 2 per task", await many.Content.ReadAsStringAsync());

        using var slow = await host.Http.PostAsync("/task", new StringContent(Payload(timeout: 6)));
        Assert.Equal(HttpStatusCode.BadRequest, slow.StatusCode);
        Assert.Contains("timeout must be between", await slow.Content.ReadAsStringAsync());
    }
}
