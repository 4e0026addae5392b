using System.ComponentModel;
using RemoteTest.Cli.Security;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary><c>remotetest token new</c>: a new API token and its configuration entry (the same as the service's <c>token new</c>).</summary>
public sealed class TokenNewCommand(CliEnvironment environment) : Command<TokenNewCommand.Settings>
{
    public sealed class Settings : CommandSettings, ITokenOptions
    {
        [CommandOption(TokenOptions.NameOption)]
        [Description(TokenOptions.NameHelp)]
        public string? Name { get; set; }

        [CommandOption(TokenOptions.ScopesOption)]
        [Description(TokenOptions.ScopesHelp)]
        public string Scopes { get; set; } = TokenOptions.DefaultScopes;

        [CommandOption("--rate-limit <N>")]
        [Description("Requests per rate-limit window for this token (default: the service's).")]
        public int? RateLimit { get; set; }

        [CommandOption(TokenOptions.ExpiresOption)]
        [Description(TokenOptions.ExpiresHelp)]
        public string? Expires { get; set; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        TokenCommand.New(settings.Name, settings.ScopeList(),
            settings.RateLimit, environment.Out, environment.Error, settings.Expires) == 0 ? ExitCodes.Passed : ExitCodes.Usage;
}
