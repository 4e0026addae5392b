namespace RemoteTest.Store;

/// <summary>Celery's task states, spelled as Celery spells them on the wire.</summary>
public enum TaskState
{
    Pending,
    Started,
    Retry,
    Failure,
    Success,
    Revoked,
}

public static class TaskStates
{
    public static string ToWire(this TaskState state) => state switch
    {
        TaskState.Pending => "PENDING",
        TaskState.Started => "STARTED",
        TaskState.Retry => "RETRY",
        TaskState.Failure => "FAILURE",
        TaskState.Success => "SUCCESS",
        TaskState.Revoked => "REVOKED",
        _ => throw new ArgumentOutOfRangeException(nameof(state)),
    };

    public static bool TryParse(string? wire, out TaskState state)
    {
        foreach (var s in Enum.GetValues<TaskState>())
        {
            if (string.Equals(s.ToWire(), wire, StringComparison.OrdinalIgnoreCase))
            {
                state = s;
                return true;
            }
        }
        state = default;
        return false;
    }

    /// <summary>Celery's <c>ready()</c>: the task will not change any more.</summary>
    public static bool IsReady(this TaskState state) => state is TaskState.Success or TaskState.Failure or TaskState.Revoked;
}
