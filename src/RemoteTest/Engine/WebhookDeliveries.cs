using System.Collections.Concurrent;
using System.Threading.Channels;

namespace RemoteTest.Engine;

/// <summary>One webhook delivery to make: what <see cref="WebhookSender.DeliverAsync"/> needs.</summary>
public sealed record WebhookDelivery(Guid TaskId, string Event, string? Summary, string? ChangesJson);

/// <summary>
/// Delivers webhooks in the background of the node where the task ended, so a delivery (with its retries and
/// back-off) never holds the task's worker slot. A delivery still in flight at shutdown gets the host's stop
/// time; one that never ran is lost with the process, as the embedded engine always did — the task's result
/// is stored either way, and its <c>deliveries</c> say what was sent.
/// </summary>
public sealed class WebhookDeliveries(WebhookSender sender, ILogger<WebhookDeliveries> log) : BackgroundService
{
    /// <summary>Deliveries in flight at once; each mostly waits on the network.</summary>
    private const int Parallel = 16;

    private readonly Channel<WebhookDelivery> _queue = Channel.CreateUnbounded<WebhookDelivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();

    public void Enqueue(WebhookDelivery delivery) => _queue.Writer.TryWrite(delivery);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(Parallel);
        try
        {
            await foreach (var delivery in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await slots.WaitAsync(stoppingToken);
                var id = Guid.NewGuid();
                _inFlight[id] = Task.Run(async () =>
                {
                    try
                    {
                        await sender.DeliverAsync(delivery.TaskId, delivery.Event, delivery.Summary, delivery.ChangesJson, CancellationToken.None);
                    }
                    catch (Exception ex)
                    {
                        log.LogError(ex, "Webhook delivery for task {TaskId} failed", delivery.TaskId);
                    }
                    finally
                    {
                        slots.Release();
                        _inFlight.TryRemove(id, out _);
                    }
                }, CancellationToken.None);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(_inFlight.Values.ToArray());
    }
}
