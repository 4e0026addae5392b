namespace RemoteTest.Store;

/// <summary>
/// A filter over the task history, newest first. Every member is optional; <see cref="Since"/> is inclusive and
/// <see cref="Until"/> exclusive (submission times), so consecutive windows never share a task; <see cref="After"/> continues a
/// listing where the previous page ended (keyset paging, so pages stay stable while tasks are added).
/// <see cref="Target"/> is a case-insensitive substring of the task's stored (masked) arguments: its hosts,
/// domains and options, so "which runs touched sbc1" is one query.
/// </summary>
public sealed record TaskQuery(
    TaskState? State = null,
    string? TaskName = null,
    string? Queue = null,
    DateTimeOffset? Since = null,
    string? Owner = null,
    string? ScheduleName = null,
    TaskCursor? After = null,
    int Limit = TaskQuery.DefaultLimit,
    DateTimeOffset? Until = null,
    string? Verdict = null,
    string? Target = null)
{
    /// <summary>The longest <see cref="Target"/> accepted: a host name or address with room to spare.</summary>
    public const int MaxTargetLength = 255;

    public const int DefaultLimit = 50;
    public const int MaxLimit = 500;
}

/// <summary>The position of the last task of a page: its submission time and id (ties broken by id).</summary>
public sealed record TaskCursor(DateTimeOffset Submitted, Guid Id)
{
    /// <summary>An opaque, URL-safe token for clients.</summary>
    public string Encode() => $"{Submitted.ToUnixTimeMilliseconds()}.{Id:N}";

    public static bool TryDecode(string? token, out TaskCursor? cursor)
    {
        cursor = null;
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }
        var dot = token.IndexOf('.');
        if (dot <= 0 || !long.TryParse(token.AsSpan(0, dot), System.Globalization.NumberStyles.None, null, out var ms)
            || ms > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            || !Guid.TryParseExact(token.AsSpan(dot + 1), "N", out var id))
        {
            return false;
        }
        cursor = new TaskCursor(DateTimeOffset.FromUnixTimeMilliseconds(ms), id);
        return true;
    }
}

/// <summary>One page of the task history; <see cref="Next"/> is null on the last page.</summary>
public sealed record TaskPage(IReadOnlyList<TaskRecord> Tasks, TaskCursor? Next);

/// <summary>What <see cref="ITaskStore.RevokeAsync"/> found.</summary>
public enum RevokeOutcome
{
    /// <summary>The task was PENDING or STARTED and is now REVOKED.</summary>
    Revoked,

    /// <summary>The task had already ended (SUCCESS, FAILURE or REVOKED): nothing changed.</summary>
    AlreadyFinished,

    /// <summary>No task has this id.</summary>
    NotFound,
}
