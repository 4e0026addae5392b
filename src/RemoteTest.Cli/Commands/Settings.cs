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

    [CommandOption("--local-time")]
    [Description("Show times in this machine's time zone (else UTC; also $REMOTETEST_LOCAL_TIME=1).")]
    public bool LocalTime { get; set; }

    /// <summary>The zone every printed time is shown in: UTC unless --local-time or $REMOTETEST_LOCAL_TIME asks for local.</summary>
    public TimeZoneInfo Zone(CliEnvironment environment) =>
        LocalTime || environment.Variable("REMOTETEST_LOCAL_TIME") is "1" or "true" or "yes" ? environment.LocalZone : TimeZoneInfo.Utc;

    /// <summary>Opens a client for the server these settings (and the environment) name.</summary>
    public ApiClient Connect(CliEnvironment environment)
    {
        var (server, token) = environment.Connection(Server, Token);
        return new ApiClient(server, token, environment.Handler);
    }
}

/// <summary>Options of the commands that show a task's result: <c>--format table|list|json</c> beside <c>--json</c>.</summary>
public class ResultSettings : ServerSettings
{
    [CommandOption("--format <FORMAT>")]
    [Description("table, list (nmap-style, one line per check) or json (the raw result). Default: a table for a few checks on a wide terminal, else the list.")]
    public string? Format { get; set; }

    /// <summary>The format asked for; <see cref="OutputFormat.Auto"/> when neither --format nor --json was given.</summary>
    public OutputFormat OutputFormat => Json ? OutputFormat.Json : Format?.Trim().ToLowerInvariant() switch
    {
        "table" => OutputFormat.Table,
        "list" => OutputFormat.List,
        "json" => OutputFormat.Json,
        _ => OutputFormat.Auto,
    };

    public override ValidationResult Validate()
    {
        if (Format is not null && Format.Trim().ToLowerInvariant() is not ("table" or "list" or "json"))
        {
            return ValidationResult.Error($"--format '{Format}' is not a format; use table, list or json");
        }
        return Json && Format is not null && Format.Trim().ToLowerInvariant() != "json"
            ? ValidationResult.Error($"--json and --format {Format} contradict each other")
            : ValidationResult.Success();
    }
}

/// <summary>Options of the commands that submit a task.</summary>
public class SubmitSettings : ResultSettings
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
        return WaitTimeout <= 0 ? ValidationResult.Error("--wait-timeout must be positive") : base.Validate();
    }
}
