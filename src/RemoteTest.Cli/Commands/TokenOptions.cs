namespace RemoteTest.Cli.Commands;

/// <summary>The token options <c>token new</c> (offline) and <c>token create</c> (the service) both take.</summary>
public interface ITokenOptions
{
    string? Name { get; }
    string Scopes { get; }
    string? Expires { get; }
}

/// <summary>
/// One declaration of <c>--name</c>, <c>--scopes</c> and <c>--expires</c> for both token commands: the option
/// names, their help and how the scopes are read. (Spectre reads options from each settings class's own
/// properties, and the two classes have different bases — offline, and <see cref="ServerSettings"/> — so the
/// properties are declared in each, from these constants.)
/// </summary>
public static class TokenOptions
{
    public const string NameOption = "--name <NAME>";
    public const string NameHelp = "Who holds the token; it owns the tasks the token submits.";
    public const string ScopesOption = "--scopes <SCOPES>";
    public const string ScopesHelp = "Comma separated: submit, read, admin (default submit,read).";
    public const string DefaultScopes = "submit,read";
    public const string ExpiresOption = "--expires <WHEN>";
    public const string ExpiresHelp = "When the token stops working: a duration (90d, 12h, 2w) or an ISO 8601 date (default: never).";

    /// <summary>"submit, read" → ["submit", "read"].</summary>
    public static string[] ScopeList(this ITokenOptions options) =>
        options.Scopes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
