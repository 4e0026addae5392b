namespace RemoteTest.Tasks;

/// <summary>What a running task may know of its surroundings: its id and a way to report progress.</summary>
public sealed class TaskContext(Guid taskId, Action<int, int>? onProgress = null)
{
    private int _done;
    private int _total;

    public Guid TaskId { get; } = taskId;

    /// <summary>Probes finished so far.</summary>
    public int Done => Volatile.Read(ref _done);

    /// <summary>Probes planned.</summary>
    public int Total => Volatile.Read(ref _total);

    /// <summary>Declares how many probes the task plans; call once before fanning out.</summary>
    public void Plan(int total)
    {
        Volatile.Write(ref _total, total);
        onProgress?.Invoke(Done, total);
    }

    /// <summary>Marks one planned probe as finished; safe from concurrent probes.</summary>
    public void Complete()
    {
        var done = Interlocked.Increment(ref _done);
        onProgress?.Invoke(done, Total);
    }
}
