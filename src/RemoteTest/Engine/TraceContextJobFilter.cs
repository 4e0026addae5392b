using System.Diagnostics;
using Hangfire;
using Hangfire.Client;
using Hangfire.Common;
using Hangfire.Server;

namespace RemoteTest.Engine;

/// <summary>
/// Carries the W3C trace context from the code that enqueues a job (the HTTP request of <c>POST /task</c>,
/// or a schedule's fire) to the worker that runs it, so every log line of a task shares the request's
/// TraceId. The job stores only the <c>traceparent</c> string beside the task id.
/// </summary>
public sealed class TraceContextJobFilter : JobFilterAttribute, IClientFilter, IServerFilter
{
    private const string Parameter = "traceparent";
    private const string ActivityItem = "RemoteTest.Activity";

    /// <summary>Hangfire's filters are process-wide; adds this one once however many hosts a process builds.</summary>
    public static void Register()
    {
        lock (GlobalJobFilters.Filters)
        {
            if (!GlobalJobFilters.Filters.Any(f => f.Instance is TraceContextJobFilter))
            {
                GlobalJobFilters.Filters.Add(new TraceContextJobFilter());
            }
        }
    }

    public void OnCreating(CreatingContext context)
    {
        if (Activity.Current?.Id is { } id)
        {
            context.SetJobParameter(Parameter, id);
        }
    }

    public void OnCreated(CreatedContext context)
    {
    }

    public void OnPerforming(PerformingContext context)
    {
        var activity = new Activity("RemoteTest.Job");
        if (context.GetJobParameter<string>(Parameter) is { Length: > 0 } parent)
        {
            activity.SetParentId(parent);
        }
        activity.SetTag("job_id", context.BackgroundJob.Id);
        // Started here, on the worker thread, it becomes Activity.Current for the job method that follows.
        context.Items[ActivityItem] = activity.Start();
    }

    public void OnPerformed(PerformedContext context)
    {
        if (context.Items.TryGetValue(ActivityItem, out var item) && item is Activity activity)
        {
            activity.Stop();
        }
    }
}
