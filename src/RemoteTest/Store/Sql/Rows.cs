using System.Data.Common;
using System.Globalization;
using RemoteTest.Security;

namespace RemoteTest.Store;

/// <summary>
/// The column lists and the row mapping both dialects share: the tables have the same columns in both (ids as text,
/// times as Unix milliseconds), so a row selected with a list below maps with the same code from SQLite or PostgreSQL,
/// and <c>migrate</c> copies rows one to one. Each reader takes the columns in the order of its list.
/// </summary>
internal static class Rows
{
    public const string TaskColumns =
        "id, task_name, queue, state, arguments, result, error, owner, worker, date_submitted, date_started, date_done, progress_done, progress_total, group_id, webhook, schedule_name, deliveries, verdict";

    public const string ScheduleColumns =
        "name, task_name, queue, arguments, cron, time_zone, webhook, notify, thresholds, owner, date_created, last_fired, last_outcome";

    public const string BaselineColumns = "owner, name, task_id, task_name, date_created";

    public const string TokenColumns = "name, hash, scopes, rate_limit, created, expires, revoked";

    /// <summary>Maps one row selected with <see cref="TaskColumns"/>.</summary>
    public static TaskRecord ReadTask(DbDataReader r)
    {
        _ = TaskStates.TryParse(r.GetString(3), out var state);
        return new TaskRecord(
            Guid.Parse(r.GetString(0)),
            r.GetString(1),
            r.GetString(2),
            state,
            r.GetString(4),
            r.IsDBNull(5) ? null : r.GetString(5),
            r.IsDBNull(6) ? null : r.GetString(6),
            r.IsDBNull(7) ? null : r.GetString(7),
            r.IsDBNull(8) ? null : r.GetString(8),
            DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(9)),
            r.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
            r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
            r.IsDBNull(12) ? null : r.GetInt32(12),
            r.IsDBNull(13) ? null : r.GetInt32(13),
            r.IsDBNull(14) ? null : Guid.Parse(r.GetString(14)),
            r.IsDBNull(15) ? null : r.GetString(15),
            r.IsDBNull(16) ? null : r.GetString(16),
            r.IsDBNull(17) ? null : r.GetString(17),
            r.IsDBNull(18) ? null : r.GetString(18));
    }

    /// <summary>
    /// The values of a task's row in the order of <see cref="TaskColumns"/>, named as both dialects' statements name
    /// them (without the prefix: <c>$</c> in SQLite, <c>@</c> in PostgreSQL); null stands for SQL NULL.
    /// </summary>
    public static (string Name, object? Value)[] TaskValues(TaskRecord t) =>
    [
        ("id", t.Id.ToString()), ("name", t.TaskName), ("queue", t.Queue), ("state", t.State.ToWire()), ("args", t.Arguments),
        ("result", t.Result), ("error", t.Error), ("owner", t.Owner), ("worker", t.Worker), ("sub", t.Submitted.ToUnixTimeMilliseconds()),
        ("start", t.Started?.ToUnixTimeMilliseconds()), ("done", t.Done?.ToUnixTimeMilliseconds()), ("pd", t.ProgressDone), ("pt", t.ProgressTotal),
        ("group", t.GroupId?.ToString()), ("webhook", t.Webhook), ("schedule", t.ScheduleName), ("deliveries", t.Deliveries), ("verdict", t.Verdict),
    ];

    /// <summary>The values of a schedule's row that a save writes (all but the last firing and its outcome), named as <see cref="TaskValues"/>.</summary>
    public static (string Name, object? Value)[] ScheduleValues(ScheduleRecord s) =>
    [
        ("name", s.Name), ("task", s.TaskName), ("queue", s.Queue), ("args", s.Arguments), ("cron", s.Cron), ("tz", s.TimeZone),
        ("webhook", s.Webhook), ("notify", s.Notify), ("thresholds", s.Thresholds), ("owner", s.Owner), ("created", s.Created.ToUnixTimeMilliseconds()),
    ];

    /// <summary>The values of a baseline's row, named as <see cref="TaskValues"/>.</summary>
    public static (string Name, object? Value)[] BaselineValues(BaselineRecord b) =>
        [("owner", b.Owner), ("name", b.Name), ("task", b.TaskId.ToString()), ("task_name", b.TaskName), ("created", b.Created.ToUnixTimeMilliseconds())];

    /// <summary>The values of a new API token's row (all but <c>revoked</c>), named as <see cref="TaskValues"/>.</summary>
    public static (string Name, object? Value)[] TokenValues(StoredApiToken token) =>
    [
        ("name", token.Name), ("hash", token.Hash), ("scopes", string.Join(',', token.Scopes)), ("rate", token.RateLimit),
        ("created", token.Created.ToUnixTimeMilliseconds()), ("expires", token.Expires?.ToUnixTimeMilliseconds()),
    ];

    /// <summary>Maps one row selected with <see cref="ScheduleColumns"/>.</summary>
    public static ScheduleRecord ReadSchedule(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6),
        r.IsDBNull(7) ? null : r.GetString(7),
        r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9),
        DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(10)),
        r.IsDBNull(11) ? null : DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(11)),
        r.IsDBNull(12) ? null : r.GetString(12));

    /// <summary>Maps one row selected with <see cref="BaselineColumns"/>.</summary>
    public static BaselineRecord ReadBaseline(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), Guid.Parse(r.GetString(2)), r.GetString(3), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(4)));

    /// <summary>
    /// Maps one row selected with <see cref="TokenColumns"/>. Numbers go through <see cref="Convert"/>: the token
    /// table's integer columns are INTEGER in SQLite and BIGINT in PostgreSQL, read back as different CLR types.
    /// </summary>
    public static StoredApiToken ReadToken(DbDataReader r) => new(
        r.GetString(0), r.GetString(1),
        r.GetString(2).Split(',', StringSplitOptions.RemoveEmptyEntries),
        r.IsDBNull(3) ? null : Convert.ToInt32(r.GetValue(3), CultureInfo.InvariantCulture),
        DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture)),
        r.IsDBNull(5) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(5), CultureInfo.InvariantCulture)),
        r.IsDBNull(6) ? null : DateTimeOffset.FromUnixTimeMilliseconds(Convert.ToInt64(r.GetValue(6), CultureInfo.InvariantCulture)));
}
