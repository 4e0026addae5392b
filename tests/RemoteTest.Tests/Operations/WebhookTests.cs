using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Engine;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Operations;

/// <summary>Webhook delivery to a receiver on loopback: signature, retries with back-off, recorded deliveries, the target guard seam.</summary>
public sealed class WebhookTests
{
    private const string Secret = "webhook-test-secret";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static Task<ServiceHost> StartAsync(int maxAttempts = 4, Action<IServiceCollection>? services = null, Dictionary<string, string?>? settings = null) =>
        ServiceHost.StartAsync(new Dictionary<string, string?>(settings ?? [])
        {
            ["RemoteTest:Webhooks:Secret"] = Secret,
            ["RemoteTest:Webhooks:MaxAttempts"] = maxAttempts.ToString(),
            ["RemoteTest:Webhooks:FirstRetryDelay"] = "00:00:00.05",
            ["RemoteTest:Webhooks:AttemptTimeout"] = "00:00:05",
        }, s =>
        {
            TestTasks.Add(s);
            services?.Invoke(s);
        });

    private static JsonObject Echo(string webhook, JsonObject? result = null) => new()
    {
        ["task_name"] = "test.echo",
        ["webhook"] = webhook,
        ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = result ?? new JsonObject { ["summary"] = new JsonObject { ["ok"] = true } } } },
    };

    private static async Task<JsonArray> DeliveriesAsync(ServiceHost host, string id, int count) =>
        (await Eventually.GetAsync(async () => (await host.Http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!,
            s => s["webhook"]?["deliveries"]?.AsArray().Count >= count, Wait, "recorded deliveries"))["webhook"]!["deliveries"]!.AsArray();

    [Fact]
    public async Task A_ready_task_is_posted_signed_after_retries_and_the_delivery_is_recorded()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer(500, 503); // two transient failures, then 200
        await using var host = await StartAsync();
        var id = await host.SubmitAsync(Echo(receiver.Url));

        await receiver.WaitForAsync(3, Wait);
        var delivered = receiver.Received.Last();
        // The signature is the HMAC-SHA256 of the exact body bytes with the configured secret.
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), delivered.Body));
        Assert.Equal(expected, delivered.Headers["X-RemoteTest-Signature"]);
        Assert.Equal("task.ready", delivered.Headers["X-RemoteTest-Event"]);
        var body = delivered.Json;
        Assert.Equal("task.ready", body["event"]!.GetValue<string>());
        Assert.Equal(id, body["task_id"]!.GetValue<string>());
        Assert.Equal("SUCCESS", body["task"]!["state"]!.GetValue<string>());
        Assert.True(body["task"]!["result"]!["summary"]!["ok"]!.GetValue<bool>());
        // Every attempt carries the same delivery id: receivers can de-duplicate.
        Assert.Single(receiver.Received.Select(r => r.Headers["X-RemoteTest-Delivery"]).Distinct());

        var delivery = Assert.Single(await DeliveriesAsync(host, id, 1))!;
        Assert.True(delivery["ok"]!.GetValue<bool>());
        Assert.Equal(200, delivery["status"]!.GetValue<int>());
        Assert.Equal(3, delivery["attempts"]!.GetValue<int>());
        // The URL is a secret (chat hooks carry their credential in it): recorded masked, origin only.
        Assert.Equal(new Uri(receiver.Url).GetLeftPart(UriPartial.Authority) + "/******", delivery["url"]!.GetValue<string>());
        Assert.Equal(body["delivery_id"]!.GetValue<string>(), delivery["delivery_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_failing_receiver_is_retried_up_to_the_limit_and_a_client_error_is_not_retried()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answer(500, 500, 500, 404);
        await using var host = await StartAsync(maxAttempts: 3);

        var failing = await host.SubmitAsync(Echo(receiver.Url));
        var first = Assert.Single(await DeliveriesAsync(host, failing, 1))!;
        Assert.False(first["ok"]!.GetValue<bool>());
        Assert.Equal(500, first["status"]!.GetValue<int>());
        Assert.Equal(3, first["attempts"]!.GetValue<int>());
        Assert.Contains("500", first["error"]!.GetValue<string>());

        var rejected = await host.SubmitAsync(Echo(receiver.Url));
        var second = Assert.Single(await DeliveriesAsync(host, rejected, 1))!;
        Assert.Equal(404, second["status"]!.GetValue<int>());
        Assert.Equal(1, second["attempts"]!.GetValue<int>());
        Assert.Equal(4, receiver.Received.Count);
    }

    [Fact]
    public async Task A_receiver_that_is_not_listening_is_recorded_as_a_connection_error()
    {
        var closedPort = ServiceProcess.FreePort();
        await using var host = await StartAsync(maxAttempts: 2);
        var id = await host.SubmitAsync(Echo($"http://127.0.0.1:{closedPort}/hook"));
        var delivery = Assert.Single(await DeliveriesAsync(host, id, 1))!;
        Assert.False(delivery["ok"]!.GetValue<bool>());
        Assert.Null(delivery["status"]);
        Assert.Equal(2, delivery["attempts"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(delivery["error"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Every_connection_passes_the_target_guard_and_a_refusal_is_final()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var guard = new RefusingGuard();
        await using var host = await StartAsync(services: s => s.AddSingleton<IWebhookTargetGuard>(guard));
        var id = await host.SubmitAsync(Echo(receiver.Url));
        var delivery = Assert.Single(await DeliveriesAsync(host, id, 1))!;
        Assert.False(delivery["ok"]!.GetValue<bool>());
        Assert.Equal(1, delivery["attempts"]!.GetValue<int>());
        Assert.Contains("not allowed: test policy", delivery["error"]!.GetValue<string>());
        Assert.Empty(receiver.Received);
        Assert.Contains(IPAddress.Loopback, guard.Asked);
    }

    [Fact]
    public async Task The_probes_target_policy_applies_to_webhooks()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await StartAsync(settings: new() { ["RemoteTest:Targets:Deny:0"] = "127.0.0.1/32" });
        var id = await host.SubmitAsync(Echo(receiver.Url));
        var delivery = Assert.Single(await DeliveriesAsync(host, id, 1))!;
        Assert.False(delivery["ok"]!.GetValue<bool>());
        Assert.Equal(1, delivery["attempts"]!.GetValue<int>()); // a refusal is not retried
        Assert.Contains("127.0.0.1 is denied by RemoteTest:Targets:Deny", delivery["error"]!.GetValue<string>());
        Assert.Empty(receiver.Received);
    }

    [Fact]
    public async Task A_webhook_must_be_an_absolute_http_url_without_credentials()
    {
        await using var host = await StartAsync();
        foreach (var bad in new[] { "not a url", "ftp://127.0.0.1/x", "/relative", "http://user:pw@127.0.0.1/hook" })
        {
            using var response = await host.PostTaskAsync(Echo(bad));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("webhook", (await response.Content.ReadFromJsonAsync<JsonObject>())!["field"]!.GetValue<string>());
        }
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>("/task"))!["tasks"]!.AsArray());
    }

    [Fact]
    public void The_signature_is_sha256_hex_of_the_body()
    {
        // Known answer (RFC 4231 test case 2): key "Jefe", data "what do ya want for nothing?".
        Assert.Equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            WebhookSender.Sign("Jefe", Encoding.UTF8.GetBytes("what do ya want for nothing?")));
    }

    private sealed class RefusingGuard : IWebhookTargetGuard
    {
        public List<IPAddress> Asked { get; } = [];

        public ValueTask<string?> CheckAsync(string host, IPAddress address, int port, CancellationToken cancellationToken)
        {
            lock (Asked)
            {
                Asked.Add(address);
            }
            return ValueTask.FromResult<string?>("test policy");
        }
    }
}
