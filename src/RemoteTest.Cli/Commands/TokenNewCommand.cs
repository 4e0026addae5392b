using System.ComponentModel;
using RemoteTest.Cli.Security;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary><c>remotetest token new</c>: a new API token and its configuration entry (the same as the service's <c>token new</c>).</summary>
public sealed class TokenNewCommand(CliEnvironment environment) : Command<TokenNewCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--name <NAME>")]
        [Description("Who holds the token; it owns the tasks the token submits.")]
        public string? Name { get; set; }

        [CommandOption("--scopes <SCOPES>")]
        [Description("Comma separated: submit, read, admin (default submit,read).")]
        public string Scopes { get; set; } = "submit,read";

        [CommandOption("--rate-limit <N>")]
        [Description("Requests per rate-limit window for this token (default: the service's).")]
        public int? RateLimit { get; set; }

        [CommandOption("--expires <WHEN>")]
        [Description("When the token stops working: a duration (90d, 12h, 2w) or an ISO 8601 date (default: never).")]
        public string? Expires { get; set; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        TokenCommand.New(settings.Name, settings.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            settings.RateLimit, environment.Out, environment.Error, settings.Expires) == 0 ? ExitCodes.Passed : ExitCodes.Usage;
}
