using System.ComponentModel;
using System.Net;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

/// <summary><c>remotetest token create</c>: a token kept by the service (POST /tokens, admin); shown once.</summary>
public sealed class TokenCreateCommand(CliEnvironment environment) : AsyncCommand<TokenCreateCommand.Settings>
{
    public sealed class Settings : ServerSettings, ITokenOptions
    {
        [CommandOption(TokenOptions.NameOption)]
        [Description(TokenOptions.NameHelp)]
        public string? Name { get; set; }

        [CommandOption(TokenOptions.ScopesOption)]
        [Description(TokenOptions.ScopesHelp)]
        public string Scopes { get; set; } = TokenOptions.DefaultScopes;

        [CommandOption(TokenOptions.ExpiresOption)]
        [Description(TokenOptions.ExpiresHelp)]
        public string? Expires { get; set; }
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var body = new JsonObject
        {
            ["name"] = settings.Name,
            ["scopes"] = new JsonArray(settings.ScopeList().Select(s => (JsonNode)s).ToArray()),
        };
        if (settings.Expires is not null)
        {
            body["expires"] = settings.Expires;
        }
        var (status, answer) = await api.SendAsync(HttpMethod.Post, "tokens", body, cancellationToken);
        if (status != HttpStatusCode.Created)
        {
            environment.Error.WriteLine($"remotetest: token create: {(int)status} {answer?["error"] ?? answer?.ToJsonString()}");
            return ExitCodes.Usage;
        }
        if (settings.Json)
        {
            environment.Out.WriteLine(answer!.ToJsonString());
            return ExitCodes.Passed;
        }
        environment.Out.WriteLine($"token: {answer!["token"]}");
        environment.Out.WriteLine($"name: {answer["name"]}  scopes: {string.Join(",", answer["scopes"]!.AsArray())}  expires: {CliTime.Format(ResultView.Text(answer["expires"]), settings.Zone(environment)) ?? "never"}");
        environment.Out.WriteLine("Give the token to its holder now; the service keeps only its hash. Revoke it with 'remotetest token revoke NAME'.");
        return ExitCodes.Passed;
    }
}

/// <summary><c>remotetest token list</c>: every token the service accepts (GET /tokens, admin); never a token or a hash.</summary>
public sealed class TokenListCommand(CliEnvironment environment) : AsyncCommand<ServerSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ServerSettings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var (status, answer) = await api.SendAsync(HttpMethod.Get, "tokens", null, cancellationToken);
        if (status != HttpStatusCode.OK)
        {
            environment.Error.WriteLine($"remotetest: token list: {(int)status} {answer?["error"] ?? answer?.ToJsonString()}");
            return ExitCodes.Usage;
        }
        if (settings.Json)
        {
            environment.Out.WriteLine(answer!.ToJsonString());
            return ExitCodes.Passed;
        }
        var zone = settings.Zone(environment);
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Name", "Scopes", "Expires", "Revoked", "Source");
        foreach (var t in (answer?["tokens"] as JsonArray ?? []).OfType<JsonObject>())
        {
            table.AddRow(Markup.Escape(t["name"]?.ToString() ?? ""), Markup.Escape(string.Join(",", t["scopes"]?.AsArray() ?? [])),
                Markup.Escape(CliTime.Format(ResultView.Text(t["expires"]), zone) ?? "never"), Markup.Escape(CliTime.Format(ResultView.Text(t["revoked"]), zone) ?? ""), Markup.Escape(t["source"]?.ToString() ?? ""));
        }
        environment.CreateOutConsole().Write(table);
        return ExitCodes.Passed;
    }
}

/// <summary><c>remotetest token revoke NAME</c>: the token stops working at once on every node (DELETE /tokens/NAME, admin).</summary>
public sealed class TokenRevokeCommand(CliEnvironment environment) : AsyncCommand<TokenRevokeCommand.Settings>
{
    public sealed class Settings : ServerSettings
    {
        [CommandArgument(0, "<NAME>")]
        [Description("The token's name.")]
        public string Name { get; set; } = "";
    }

    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        using var api = settings.Connect(environment);
        var (status, answer) = await api.SendAsync(HttpMethod.Delete, $"tokens/{Uri.EscapeDataString(settings.Name)}", null, cancellationToken);
        if (status != HttpStatusCode.NoContent)
        {
            environment.Error.WriteLine($"remotetest: token revoke: {(int)status} {answer?["error"] ?? answer?.ToJsonString()}");
            return ExitCodes.Usage;
        }
        environment.Out.WriteLine($"token '{settings.Name}' revoked");
        return ExitCodes.Passed;
    }
}
