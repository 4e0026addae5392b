namespace RemoteTest.Tasks;

/// <summary>Bad input from a client: becomes a 400 <c>{"error", "field"}</c> and nothing is enqueued.</summary>
public sealed class TaskArgumentException(string field, string message) : Exception(message)
{
    /// <summary>The request field at fault, e.g. <c>data["example.com"].ports[2]</c> or <c>timeout</c>.</summary>
    public string Field { get; } = field;
}
