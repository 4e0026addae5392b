using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

public sealed class RunSettings : SubmitSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("A POST /task body: {\"task_name\": ..., \"data\": ...}; - for standard input.")]
    public string File { get; set; } = "";
}

/// <summary><c>remotetest run task.json</c>: any task, in the API's payload form.</summary>
public sealed class RunCommand(CliEnvironment environment) : SubmitCommand<RunSettings>(environment)
{
    protected override JsonObject BuildPayload(RunSettings settings)
    {
        var payload = JsonInput.ReadObject(settings.File, Environment);
        return JsonInput.IsPayload(payload) ? payload
            : throw new CliException($"{settings.File} has no \"task_name\": give the whole payload, {{\"task_name\": ..., \"data\": ...}}");
    }
}
