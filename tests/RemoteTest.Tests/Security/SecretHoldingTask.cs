using System.Text.Json.Nodes;
using RemoteTest.Tasks;

namespace RemoteTest.Tests.Security;

/// <summary>
/// A test-only task whose argument carries a password (as apptest's <c>test_data.password</c> does). It waits until
/// released, so tests can look at storage while the secret is in flight, and reports only the password's length,
/// which proves the worker got it decrypted.
/// </summary>
public sealed class SecretHoldingTask : RemoteTask<SecretHoldingTask.Args>
{
    public sealed record Args(string User, string Password);

    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override string Name => "test.secret_holding";
    public override string Description => "Test task holding a password until released.";

    public override IReadOnlyList<TaskParameter> Parameters { get; } =
        [new("test_data", true, "user and password", new JsonObject { ["type"] = "object" })];

    private int _runs;

    public Task Started => _started.Task;

    /// <summary>How many times the task body ran (a duplicate job must not run it again).</summary>
    public int Runs => Volatile.Read(ref _runs);

    public void Release() => _release.TrySetResult();

    public override Args ParseArguments(TaskArguments arguments)
    {
        var data = ArgumentReader.Object(arguments["test_data"], "test_data");
        return new Args(ArgumentReader.String(data["user"], "test_data.user"), ArgumentReader.String(data["password"], "test_data.password"));
    }

    public override async Task<object> RunAsync(Args arguments, TaskContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _runs);
        _started.TrySetResult();
        await _release.Task.WaitAsync(cancellationToken);
        return new { user = arguments.User, password_length = arguments.Password.Length };
    }
}
