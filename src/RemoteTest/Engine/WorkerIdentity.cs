namespace RemoteTest.Engine;

/// <summary>Who runs tasks in this process: recorded on every task it starts.</summary>
public sealed record WorkerIdentity(string Name, string? Location, IReadOnlyList<string> Queues)
{
    /// <summary>Random per process start; tells a restarted worker from a second process that took the same name.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    public static WorkerIdentity From(WorkerOptions options) => new(
        string.IsNullOrWhiteSpace(options.Name) ? $"{Environment.MachineName}:{Environment.ProcessId}" : options.Name,
        string.IsNullOrWhiteSpace(options.Location) ? null : options.Location,
        options.Queues);
}

/// <summary>Records in a result which worker and location produced it (<c>summary.worker</c>, <c>summary.location</c>).</summary>
public static class WorkerStamp
{
    public static string Apply(System.Text.Json.Nodes.JsonNode? result, WorkerIdentity worker)
    {
        if (result is System.Text.Json.Nodes.JsonObject o && o["summary"] is System.Text.Json.Nodes.JsonObject summary)
        {
            summary["worker"] = worker.Name;
            summary["location"] = worker.Location;
        }
        return result?.ToJsonString() ?? "null";
    }
}
