using System.Text.Json.Nodes;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests;

/// <summary>UI and CLI tests of a task another area delivers run as soon as that task is on the server.</summary>
public static class TaskAvailability
{
    /// <summary>Skips (with the reason shown) while <paramref name="taskName"/> is not registered; runs once it is.</summary>
    public static async Task SkipUnlessTaskAsync(this ServiceHost host, string taskName)
    {
        var tasks = JsonNode.Parse(await host.Http.GetStringAsync("/tasks"))!["task_names"]!.AsArray().Select(n => n!.GetValue<string>());
        Skip.IfNot(tasks.Contains(taskName), $"{taskName} is not on this server yet");
    }
}
