using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary>Options every command that talks to a server takes.</summary>
public class ServerSettings : CommandSettings
{
    [CommandOption("--server <URL>")]
    [Description("RemoteTest server (else $REMOTETEST_SERVER, the config file, http://127.0.0.1:8080).")]
    public string? Server { get; set; }

    [CommandOption("--token <TOKEN>")]
    [Description("API token (else $REMOTETEST_TOKEN or the config file).")]
    public string? Token { get; set; }

    [CommandOption("--json")]
    [Description("Print the server's raw JSON answer instead of tables.")]
    public bool Json { get; set; }

    /// <summary>Opens a client for the server these settings (and the environment) name.</summary>
    public ApiClient Connect(CliEnvironment environment)
    {
        var (server, token) = environment.Connection(Server, Token);
        return new ApiClient(server, token, environment.Handler);
    }
}

/// <summary>Options of the commands that submit a task.</summary>
public class SubmitSettings : ServerSettings
{
    [CommandOption("-q|--queue <QUEUE>")]
    [Description("Run from this vantage point (a worker queue).")]
    public string? Queue { get; set; }

    [CommandOption("--queues <QUEUES>")]
    [Description("Run from several vantage points (comma separated, or * for all) and compare.")]
    public string? Queues { get; set; }

    [CommandOption("--timeout <SECONDS>")]
    [Description("Per-check timeout passed to the task.")]
    public double? Timeout { get; set; }

    [CommandOption("--wait")]
    [Description("Wait for the result (the default).")]
    public bool Wait { get; set; }

    [CommandOption("--no-wait")]
    [Description("Only submit: print the task id and exit.")]
    public bool NoWait { get; set; }

    [CommandOption("--wait-timeout <SECONDS>")]
    [Description("Give up waiting after this long (exit code 2).")]
    [DefaultValue(600)]
    public int WaitTimeout { get; set; } = 600;

    public override ValidationResult Validate()
    {
        if (Wait && NoWait)
        {
            return ValidationResult.Error("--wait and --no-wait contradict each other");
        }
        if (Queue is not null && Queues is not null)
        {
            return ValidationResult.Error("give either --queue or --queues");
        }
        if (Timeout is <= 0)
        {
            return ValidationResult.Error("--timeout must be positive");
        }
        return WaitTimeout <= 0 ? ValidationResult.Error("--wait-timeout must be positive") : ValidationResult.Success();
    }
}
