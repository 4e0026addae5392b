using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;
using RemoteTest.Tests.Operations;

namespace RemoteTest.Tests.Security;

/// <summary>Webhook URLs are secrets: encrypted at rest, masked in task and schedule listings and in logs, used in full only to deliver.</summary>
public sealed class WebhookSecretTests
{
    private const string Credential = "XOXB-hook-credential-4711";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_task_webhook_is_delivered_in_full_but_stored_encrypted_and_shown_masked()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Webhooks:FirstRetryDelay"] = "00:00:00.05" }, TestTasks.Add);
        var url = receiver.Url + "?token=" + Credential;
        var id = await host.SubmitAsync(new JsonObject
        {
            ["task_name"] = "test.echo",
            ["webhook"] = url,
            ["data"] = new JsonObject { ["kwargs"] = new JsonObject { ["result"] = new JsonObject { ["summary"] = new JsonObject { ["ok"] = true } } } },
        });
        await receiver.WaitForAsync(1, Wait);

        var status = await Eventually.GetAsync(async () => (await host.Http.GetFromJsonAsync<JsonObject>($"/task/{id}"))!,
            s => s["webhook"]?["deliveries"]?.AsArray().Count >= 1, Wait, "the recorded delivery");
        Assert.True(status["webhook"]!["deliveries"]![0]!["ok"]!.GetValue<bool>());
        Assert.Equal(new Uri(url).GetLeftPart(UriPartial.Authority) + "/******", status["webhook"]!["url"]!.GetValue<string>());
        Assert.DoesNotContain(Credential, status.ToJsonString());
        Assert.DoesNotContain(Credential, await host.Http.GetStringAsync("/task"));
        Assert.DoesNotContain(Credential, receiver.Received.Single().Json.ToJsonString());

        var stored = await host.Services.GetRequiredService<ITaskStore>().GetAsync(Guid.Parse(id), CancellationToken.None);
        Assert.DoesNotContain(Credential, stored!.Webhook);
        Assert.DoesNotContain(Credential, stored.Deliveries ?? "");
        Assert.DoesNotContain(Credential, host.Logs.All);
    }

    [Fact]
    public async Task A_schedule_webhook_is_stored_encrypted_and_listed_masked()
    {
        await using var host = await ServiceHost.StartAsync();
        using var saved = await host.Http.PostAsJsonAsync("/schedules", new JsonObject
        {
            ["name"] = "nightly",
            ["task_name"] = "dns.check_records",
            ["cron"] = "0 3 * * *",
            ["webhook"] = "https://hooks.slack.example/services/T000/B000/" + Credential,
            ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }) },
        });
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);
        var body = await saved.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Credential, body);
        Assert.Contains("https://hooks.slack.example/******", body);
        Assert.DoesNotContain(Credential, await host.Http.GetStringAsync("/schedules"));
        Assert.DoesNotContain(Credential, await host.Http.GetStringAsync("/schedules/nightly"));
        var schedule = await host.Services.GetRequiredService<ITaskStore>().GetScheduleAsync("nightly", CancellationToken.None);
        Assert.DoesNotContain(Credential, schedule!.Webhook);
        Assert.DoesNotContain(Credential, host.Logs.All);
    }
}
