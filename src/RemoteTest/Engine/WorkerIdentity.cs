namespace RemoteTest.Engine;

/// <summary>Who runs tasks in this process: recorded on every task it starts.</summary>
public sealed record WorkerIdentity(string Name, string? Location, IReadOnlyList<string> Queues)
{
    public static WorkerIdentity From(WorkerOptions options) => new(
        string.IsNullOrWhiteSpace(options.Name) ? $"{Environment.MachineName}:{Environment.ProcessId}" : options.Name,
        options.Location,
        options.Queues);
}
