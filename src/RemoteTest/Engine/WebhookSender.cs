using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Api;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// Posts a ready task to its webhook, in the background (<see cref="WebhookDeliveries"/>), so delivery does not hold the task's worker.
/// The body is signed with HMAC-SHA256 (<c>X-RemoteTest-Signature: sha256=&lt;hex&gt;</c>); retries with
/// exponential back-off come from the resilience pipeline of the <see cref="ClientName"/> HttpClient;
/// each delivery (after its retries) is appended to the task's <c>deliveries</c>.
/// </summary>
public sealed class WebhookSender(
    IHttpClientFactory clients,
    ITaskStore store,
    RemoteTestMetrics metrics,
    IOptions<WebhookOptions> webhooksOptions,
    TimeProvider time,
    ILogger<WebhookSender> log,
    ArgumentSecrets secrets)
{
    public const string ClientName = "RemoteTest.Webhooks";
    public const string SignatureHeader = "X-RemoteTest-Signature";
    public const string EventHeader = "X-RemoteTest-Event";
    public const string DeliveryHeader = "X-RemoteTest-Delivery";

    /// <summary>Request option the attempt counter writes to; see <see cref="AttemptCounter"/>.</summary>
    internal static readonly HttpRequestOptionsKey<StrongBox> Attempts = new("RemoteTest.WebhookAttempts");

    /// <summary>Retries are the resilience pipeline's; a failed delivery is recorded, not retried again.</summary>
    public async Task DeliverAsync(Guid taskId, string eventName, string? summary, string? changesJson, CancellationToken cancellationToken)
    {
        var task = await store.GetAsync(taskId, cancellationToken);
        if (task?.Webhook is not { } stored)
        {
            return;
        }
        // Decrypted only here, to deliver; everything recorded or logged names the masked form.
        var url = secrets.RevealWebhook(stored);
        var shown = Security.WebhookSecret.Mask(stored);
        var deliveryId = Guid.NewGuid();
        var body = Body(task, eventName, summary, changesJson, deliveryId, time.GetUtcNow());

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.UserAgent.ParseAdd("RemoteTest-Webhook/1");
        request.Headers.Add(EventHeader, eventName);
        request.Headers.Add(DeliveryHeader, deliveryId.ToString());
        if (webhooksOptions.Value.Secret is { Length: > 0 } secret)
        {
            request.Headers.Add(SignatureHeader, Sign(secret, body));
        }
        var attempts = new StrongBox();
        request.Options.Set(Attempts, attempts);

        var started = Stopwatch.GetTimestamp();
        int? status = null;
        string? error = null;
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            status = (int)response.StatusCode;
            if (!response.IsSuccessStatusCode)
            {
                error = $"HTTP {status} {response.ReasonPhrase}";
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or Polly.Timeout.TimeoutRejectedException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            error = WebhookTargetRefusedException.Find(ex)?.Message ?? ex.Message;
        }

        var ok = error is null;
        metrics.Webhook(ok);
        var record = new JsonObject
        {
            ["delivery_id"] = deliveryId.ToString(),
            ["event"] = eventName,
            ["url"] = shown,
            ["date"] = time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
            ["ok"] = ok,
            ["status"] = status,
            ["attempts"] = attempts.Value,
            ["duration_ms"] = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1),
            ["error"] = error,
        };
        await AppendDeliveryAsync(taskId, record);
        if (ok)
        {
            log.LogInformation("Webhook {Event} for task {TaskId} delivered to {Url} after {Attempts} attempt(s)", eventName, taskId, shown, attempts.Value);
        }
        else
        {
            log.LogWarning("Webhook {Event} for task {TaskId} to {Url} failed after {Attempts} attempt(s): {Error}", eventName, taskId, shown, attempts.Value, error);
        }
    }

    /// <summary><c>sha256=</c> and the lower-case hex HMAC-SHA256 of the exact body bytes.</summary>
    public static string Sign(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The delivery body: the event, its summary and changes, the schedule, and the task as <c>GET /task/{id}</c> shows it.</summary>
    private static byte[] Body(TaskRecord task, string eventName, string? summary, string? changesJson, Guid deliveryId, DateTimeOffset now)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("event", eventName);
            w.WriteString("delivery_id", deliveryId.ToString());
            w.WriteString("sent_at", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"));
            w.WriteString("task_id", task.Id.ToString());
            w.WriteString("schedule", task.ScheduleName);
            w.WriteString("summary", summary);
            w.WritePropertyName("changes");
            w.WriteRawValue(string.IsNullOrEmpty(changesJson) ? "[]" : changesJson);
            w.WritePropertyName("task");
            TaskStatusResponse.Write(w, task with { Deliveries = null });
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private async Task AppendDeliveryAsync(Guid taskId, JsonObject delivery)
    {
        // Only this delivery writes a task's deliveries, and a task's deliveries run one at a time in practice;
        // a read-modify-write keeps the store's interface simple.
        var current = await store.GetAsync(taskId, CancellationToken.None);
        var list = current?.Deliveries is { } existing && JsonNode.Parse(existing) is JsonArray a ? a : [];
        list.Add(delivery);
        await store.SetDeliveriesAsync(taskId, list.ToJsonString(), CancellationToken.None);
    }

    /// <summary>A mutable count shared between the request and the handler that counts attempts.</summary>
    internal sealed class StrongBox
    {
        public int Value;
    }

    /// <summary>Sits inside the retry handler, so it sees every attempt of a request.</summary>
    internal sealed class AttemptCounter : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Options.TryGetValue(Attempts, out var box))
            {
                Interlocked.Increment(ref box.Value);
            }
            return base.SendAsync(request, cancellationToken);
        }
    }
}
