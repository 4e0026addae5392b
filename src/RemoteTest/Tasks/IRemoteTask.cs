using System.Text.Json.Nodes;

namespace RemoteTest.Tasks;

/// <summary>A task a client can submit by its public (Celery) name.</summary>
public interface IRemoteTask
{
    /// <summary>The dotted public name, e.g. <c>dns.check_records</c>.</summary>
    string Name { get; }

    /// <summary>One sentence for <c>GET /tasks</c> and the API document.</summary>
    string Description { get; }

    /// <summary>The parameters in positional order, as Celery bound them.</summary>
    IReadOnlyList<TaskParameter> Parameters { get; }

    /// <summary>Validates bound arguments into the task's typed argument record; throws <see cref="TaskArgumentException"/>.</summary>
    object Parse(TaskArguments arguments);

    /// <summary>Runs the task. Failures a user can act on belong in the result, not in exceptions.</summary>
    Task<object> RunAsync(object arguments, TaskContext context, CancellationToken cancellationToken);
}

/// <summary>Base class that gives a task a typed argument record.</summary>
public abstract class RemoteTask<TArgs> : IRemoteTask where TArgs : class
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract IReadOnlyList<TaskParameter> Parameters { get; }

    /// <summary>Parses and validates; every problem is a <see cref="TaskArgumentException"/> naming the field.</summary>
    public abstract TArgs ParseArguments(TaskArguments arguments);

    /// <summary>Runs the task on validated arguments and returns its result record.</summary>
    public abstract Task<object> RunAsync(TArgs arguments, TaskContext context, CancellationToken cancellationToken);

    object IRemoteTask.Parse(TaskArguments arguments) => ParseArguments(arguments);

    Task<object> IRemoteTask.RunAsync(object arguments, TaskContext context, CancellationToken cancellationToken) =>
        RunAsync((TArgs)arguments, context, cancellationToken);
}

/// <summary>One parameter of a task: its name, whether it is required, and a JSON schema for documentation.</summary>
public sealed record TaskParameter(string Name, bool Required, string Description, JsonObject Schema);
