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

    /// <summary>
    /// Like <see cref="TryStartAsync"/>, but also takes a task STARTED by another worker that still looks alive:
    /// the queue redelivered its message because that worker's connection closed (it was killed), which the
    /// queue knows long before the worker's heartbeat expires. Providers with one process need nothing more.
    /// </summary>
    Task<TaskRecord?> TryTakeOverAsync(Guid id, string worker, DateTimeOffset now, CancellationToken cancellationToken) =>
        TryStartAsync(id, worker, now, cancellationToken);

    /// <summary>
    /// Records the outcome unless the task already ended (a revoked task stays REVOKED); <paramref name="verdict"/> is
    /// the outcome's <see cref="Tasks.TaskVerdict"/>, kept in a column so the history filters by it.
    /// </summary>
    Task<bool> FinishAsync(Guid id, TaskState state, string? result, string? error, string arguments, string? worker, DateTimeOffset now, string? verdict, CancellationToken cancellationToken);

    Task SetProgressAsync(Guid id, int done, int total, CancellationToken cancellationToken);

    /// <summary>
    /// How many tasks of <paramref name="owner"/> are PENDING or STARTED, counted up to <paramref name="atMost"/>.
    /// The submission gate asks on every submit, so a provider should answer with one bounded count; the
    /// fallback pages through the history.
    /// </summary>
    Task<int> CountUnfinishedAsync(string owner, int atMost, CancellationToken cancellationToken) =>
        CountUnfinishedByPagingAsync(this, owner, atMost, cancellationToken);

    /// <summary>The count from history pages: PENDING before STARTED, by id, so a task that starts between the two reads is seen twice, never missed.</summary>
    static async Task<int> CountUnfinishedByPagingAsync(ITaskStore store, string owner, int atMost, CancellationToken cancellationToken)
    {
        var ids = new HashSet<Guid>();
        foreach (var state in new[] { TaskState.Pending, TaskState.Started })
        {
            TaskCursor? after = null;
            do
            {
                var page = await store.ListAsync(new TaskQuery(State: state, Owner: owner, After: after, Limit: TaskQuery.MaxLimit), cancellationToken);
                ids.UnionWith(page.Tasks.Select(t => t.Id));
                after = page.Next;
            }
            while (after is not null && ids.Count < atMost);
        }
        return Math.Min(ids.Count, atMost);
    }

    /// <summary>Tasks still PENDING or STARTED, oldest first: what a restart must enqueue again.</summary>
    Task<IReadOnlyList<TaskRecord>> ListUnfinishedAsync(CancellationToken cancellationToken);

    /// <summary>Deletes tasks that ended before <paramref name="cutoff"/>; returns how many.</summary>
    Task<int> DeleteFinishedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);

    /// <summary>
    /// The task history, newest first (by submission time, then id), filtered by <paramref name="query"/>;
    /// <see cref="TaskPage.Next"/> is set when more tasks follow.
    /// </summary>
    Task<TaskPage> ListAsync(TaskQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a PENDING or STARTED task REVOKED (date_done now, error <paramref name="reason"/>, arguments
    /// replaced by <paramref name="maskedArguments"/>); a task that already ended is left as it is.
    /// </summary>
    Task<RevokeOutcome> RevokeAsync(Guid id, string maskedArguments, string reason, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Which of <paramref name="ids"/> are REVOKED: polled by workers to cancel what another node revoked.</summary>
    Task<IReadOnlyList<Guid>> ListRevokedAsync(IReadOnlyCollection<Guid> ids, CancellationToken cancellationToken);

    /// <summary>Replaces the task's webhook delivery log (a JSON array); one writer per task.</summary>
    Task SetDeliveriesAsync(Guid id, string deliveries, CancellationToken cancellationToken);

    /// <summary>Creates a schedule, or replaces the one of the same name (keeping its fire and outcome history); true when created.</summary>
    Task<bool> SaveScheduleAsync(ScheduleRecord schedule, CancellationToken cancellationToken);

    Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every schedule, by name.</summary>
    Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken);

    Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the occurrence <paramref name="fireTime"/> of a schedule for this node: true for the first
    /// caller, false for every later one (and for an occurrence older than one already claimed).
    /// </summary>
    Task<bool> TryClaimScheduleFireAsync(string name, DateTimeOffset fireTime, CancellationToken cancellationToken);

    /// <summary>Stores what the latest run of a schedule found, for change and threshold detection.</summary>
    Task SetScheduleOutcomeAsync(string name, string outcome, CancellationToken cancellationToken);

    /// <summary>The child tasks of a fan-out group, by queue.</summary>
    Task<IReadOnlyList<TaskRecord>> ListGroupAsync(Guid groupId, CancellationToken cancellationToken);

    /// <summary>
    /// Hands a STARTED task of <paramref name="worker"/> back as PENDING (the worker is shutting down and
    /// its job goes back to the queue); false when the task is no longer this worker's.
    /// </summary>
    Task<bool> ReleaseAsync(Guid id, string worker, CancellationToken cancellationToken);

    // ---------- Baselines (pinned tasks; see BaselineRecord) ----------

    /// <summary>Pins a task under <see cref="BaselineRecord.Name"/> for its owner, replacing an earlier pin of that name; true when new.</summary>
    Task<bool> SaveBaselineAsync(BaselineRecord baseline, CancellationToken cancellationToken);

    Task<BaselineRecord?> GetBaselineAsync(string owner, string name, CancellationToken cancellationToken);

    /// <summary>The baselines of <paramref name="owner"/> (every owner's when null), by owner then name.</summary>
    Task<IReadOnlyList<BaselineRecord>> ListBaselinesAsync(string? owner, CancellationToken cancellationToken);

    /// <summary>Unpins; the task is then subject to retention again. False when there was no such baseline.</summary>
    Task<bool> DeleteBaselineAsync(string owner, string name, CancellationToken cancellationToken);
}
