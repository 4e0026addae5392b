using RemoteTest.Api;
using RemoteTest.Store;

namespace RemoteTest.Engine;

/// <summary>A scheduled run compared with its owner's named baseline (<c>notify: "baseline:NAME"</c>).</summary>
public static class BaselineComparison
{
    /// <summary>
    /// The <c>baseline_diff</c> notification when the run differs from the baseline, null when it does not. A
    /// run that did not succeed, or a baseline that is gone, is announced too: the comparison could not be made.
    /// </summary>
    public static async Task<WebhookNotification?> NotificationAsync(ITaskStore store, TaskRecord run, string baseline, CancellationToken cancellationToken)
    {
        var owner = run.Owner ?? Security.Caller.AnonymousName;
        var pinned = await store.GetBaselineAsync(owner, baseline, cancellationToken);
        var before = pinned is null ? null : await store.GetAsync(pinned.TaskId, cancellationToken);
        if (before is null || before.TaskName != run.TaskName)
        {
            return new WebhookNotification(ScheduleNotifications.BaselineDiff, $"baseline {baseline} not found: cannot compare", []);
        }
        if (run.State != TaskState.Success)
        {
            return new WebhookNotification(ScheduleNotifications.BaselineDiff, $"the run ended {run.State.ToWire()}: cannot compare with baseline {baseline}",
                [new OutcomeChange("task", "SUCCESS", run.State.ToWire())]);
        }
        return ScheduleNotifications.BaselineNotification(baseline, DiffEndpoints.Document(run, before, baseline));
    }
}
