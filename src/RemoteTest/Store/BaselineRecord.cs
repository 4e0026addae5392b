namespace RemoteTest.Store;

/// <summary>
/// A task pinned under a name by its owner ("pre-cutover"): later runs are compared with it
/// (<c>GET /task/{id}/diff?against=baseline:NAME</c>, schedules' <c>notify: "baseline:NAME"</c>), and retention
/// keeps the task while it is pinned. Names are per owner: two owners may each have a "pre-cutover".
/// </summary>
public sealed record BaselineRecord(string Owner, string Name, Guid TaskId, string TaskName, DateTimeOffset Created);
