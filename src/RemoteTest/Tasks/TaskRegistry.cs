using System.Diagnostics.CodeAnalysis;

namespace RemoteTest.Tasks;

/// <summary>Maps public task names to their implementations.</summary>
public sealed class TaskRegistry
{
    private readonly Dictionary<string, IRemoteTask> _tasks;

    public TaskRegistry(IEnumerable<IRemoteTask> tasks)
    {
        _tasks = tasks.ToDictionary(t => t.Name, StringComparer.Ordinal);
        Names = _tasks.Keys.Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Every task name, sorted as the original's <c>GET /tasks</c> listed them.</summary>
    public IReadOnlyList<string> Names { get; }

    public IEnumerable<IRemoteTask> All => Names.Select(n => _tasks[n]);

    public bool TryGet(string name, [NotNullWhen(true)] out IRemoteTask? task) => _tasks.TryGetValue(name, out task);
}
