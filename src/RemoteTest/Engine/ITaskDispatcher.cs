using Hangfire;
using Hangfire.Common;
using Hangfire.States;

namespace RemoteTest.Engine;

/// <summary>Hands a stored task to the job engine.</summary>
public interface ITaskDispatcher
{
    /// <summary>Enqueues a job that carries only the task id, never its arguments.</summary>
    void Enqueue(Guid taskId, string queue);
}

/// <summary>Enqueues <see cref="TaskRunner"/> jobs on Hangfire; the queue is the vantage point.</summary>
public sealed class HangfireTaskDispatcher(IBackgroundJobClient client) : ITaskDispatcher
{
    public void Enqueue(Guid taskId, string queue) =>
        client.Create(Job.FromExpression<TaskRunner>(r => r.RunAsync(taskId, CancellationToken.None)), new EnqueuedState(queue));
}
