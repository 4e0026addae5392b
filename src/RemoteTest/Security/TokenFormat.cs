using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

// Compiled into the service and, linked, into the CLI (remotetest token new); each assembly keeps its own namespace.
#if REMOTETEST_CLI
namespace RemoteTest.Cli.Security;
#else
namespace RemoteTest.Security;
#endif

/// <summary>The scopes a token can hold.</summary>
public static class ApiScopes
{
    public const string Submit = "submit";
    public const string Read = "read";

    /// <summary>Includes submit and read, sees and revokes every token's tasks, manages tokens.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Submit, Read, Admin];
}

/// <summary>
/// What an API token looks like: 32 random bytes (<c>rt_</c> + base64url), configured as <c>sha256:&lt;hex&gt;</c>.
/// The token has full entropy, so an unsalted fast hash is enough, and a leaked configuration file leaks no token.
/// </summary>
public static partial class TokenFormat
{
    public const string Prefix = "rt_";

    /// <summary>The owner of tasks submitted without a token; no token may take this name.</summary>
    public const string AnonymousName = "anonymous";

    [GeneratedRegex("^[A-Za-z0-9_.@-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex HashPattern();

    /// <summary>A new random token, e.g. <c>rt_Jx0...</c> (43 base64url characters after the prefix).</summary>
    public static string New() =>
        Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The configured form of <paramref name="token"/>.</summary>
    public static string Hash(string token) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool IsHash(string? hash) => hash is not null && HashPattern().IsMatch(hash);

    /// <summary>Problems with one token's name and scopes, each naming the part (<paramref name="where"/>: the setting's prefix).</summary>
    public static IEnumerable<string> Problems(string where, string? name, IReadOnlyCollection<string> scopes)
    {
        if (name is null || !NamePattern().IsMatch(name))
        {
            yield return $"{where}Name: '{name}' is not a token name (letters, digits, '_', '.', '@', '-', at most 64)";
        }
        else if (name == AnonymousName)
        {
            yield return $"{where}Name: '{AnonymousName}' is reserved for callers without a token";
        }
        if (scopes.Count == 0)
        {
            yield return $"{where}Scopes: at least one of {string.Join(", ", ApiScopes.All)}";
        }
        foreach (var scope in scopes.Where(s => !ApiScopes.All.Contains(s)))
        {
            yield return $"{where}Scopes: '{scope}' is not one of {string.Join(", ", ApiScopes.All)}";
        }
    }
}
