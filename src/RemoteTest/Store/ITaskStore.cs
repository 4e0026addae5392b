namespace RemoteTest.Store;

/// <summary>The product's own record of every task; the seam between the SQLite and PostgreSQL providers.</summary>
public interface ITaskStore
{
    /// <summary>Creates the schema when it is missing; safe to call from several nodes at once.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Durably stores a new task; returns once it is committed.</summary>
    Task InsertAsync(TaskRecord task, CancellationToken cancellationToken);

    Task<TaskRecord?> GetAsync(Guid id, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a PENDING (or, after a crash, STARTED) task STARTED by <paramref name="worker"/> and returns it;
    /// null when the task is unknown, finished or revoked, so it must not run.
    /// </summary>
    Task<TaskRecord?> TryStartAsync(Guid id, string worker, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Records the outcome unless the task already ended (a revoked task stays REVOKED).</summary>
    Task<bool> FinishAsync(Guid id, TaskState state, string? result, string? error, string arguments, DateTimeOffset now, CancellationToken cancellationToken);

    Task SetProgressAsync(Guid id, int done, int total, CancellationToken cancellationToken);

    /// <summary>Tasks still PENDING or STARTED, oldest first: what a restart must enqueue again.</summary>
    Task<IReadOnlyList<TaskRecord>> ListUnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>Deletes tasks that ended before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> DeleteFinishedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}
