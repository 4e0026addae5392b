using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>
/// What happens once a task is ready (SUCCESS, FAILURE or REVOKED): certificate and probe metrics from its
/// result, its schedule's change and threshold detection, and the webhook delivery, made in the background.
/// </summary>
public sealed class TaskCompletion(
    ITaskStore store,
    RemoteTestMetrics metrics,
    WebhookDeliveries webhooks,
    IOptions<ScheduleOptions> schedulesOptions,
    TimeProvider time,
    ILogger<TaskCompletion> log)
{
    /// <summary>For a task already stored as ended (a revoke): evaluates and notifies at once.</summary>
    public async Task TaskEndedAsync(Guid taskId, CancellationToken cancellationToken)
    {
        if (await store.GetAsync(taskId, cancellationToken) is { } task)
        {
            Notify(task, await EvaluateAsync(task, cancellationToken));
        }
    }

    /// <summary>
    /// Records what an ending task found (metrics; its schedule's outcome) and returns the webhook
    /// notification due, if any. The runner calls it before it stores the final state, so that whoever sees
    /// a scheduled run ready also sees its outcome recorded, and the next run compares with it.
    /// </summary>
    public async Task<WebhookNotification?> EvaluateAsync(TaskRecord task, CancellationToken cancellationToken)
    {
        try
        {
            var observed = task.State == TaskState.Success ? ResultObservations.From(task.Result, time.GetUtcNow()) : ResultObservations.Empty;
            foreach (var cert in observed.Certificates)
            {
                metrics.Certificate(cert.Host, cert.Port, cert.NotAfter);
            }
            foreach (var probe in observed.Probes)
            {
                metrics.Probe(probe.Probe, probe.Outcome, probe.Seconds);
            }

            var notification = task.Webhook is null ? null : WebhookNotification.Ready;
            if (task.ScheduleName is { } name && await store.GetScheduleAsync(name, cancellationToken) is { } schedule)
            {
                var (outcome, scheduled) = ScheduleNotifications.Evaluate(schedule.Notify, Thresholds(schedule), schedule.LastOutcome, task.State.ToWire(), observed);
                await store.SetScheduleOutcomeAsync(name, outcome, cancellationToken);
                notification = task.Webhook is null ? null : scheduled;
                // notify: "baseline:NAME" (issue 14): compared with the pinned run instead.
                if (ScheduleNotifications.BaselineName(schedule.Notify) is { } baseline)
                {
                    notification = task.Webhook is null ? null : await BaselineComparison.NotificationAsync(store, task, baseline, cancellationToken);
                }
            }
            return notification;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The task's own state is stored regardless; a failure here costs a notification, not the result.
            log.LogError(ex, "After-task processing failed for task {TaskId}", task.Id);
            return null;
        }
    }

    /// <summary>Queues the webhook delivery of an ended task on this node.</summary>
    public void Notify(TaskRecord task, WebhookNotification? notification)
    {
        if (notification is null || task.Webhook is null)
        {
            return;
        }
        var changes = notification.Changes.Count == 0 ? null : JsonSerializer.Serialize(
            notification.Changes.Select(c => new { key = c.Key, from = c.From, to = c.To }));
        webhooks.Enqueue(new WebhookDelivery(task.Id, notification.Event, notification.Summary, changes));
    }

    /// <summary>The schedule's thresholds, or the configured defaults; highest first.</summary>
    public IReadOnlyList<int> Thresholds(ScheduleRecord schedule)
    {
        if (schedule.Thresholds is { } json && JsonNode.Parse(json) is JsonArray a)
        {
            return a.Select(n => n!.GetValue<int>()).OrderDescending().ToList();
        }
        return schedulesOptions.Value.CertThresholds.OrderDescending().ToList();
    }
}
