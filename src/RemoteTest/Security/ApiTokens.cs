using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace RemoteTest.Security;

/// <summary>The scopes a token can hold.</summary>
public static class ApiScopes
{
    public const string Submit = "submit";
    public const string Read = "read";

    /// <summary>Includes submit and read, sees and revokes every token's tasks, opens the Hangfire dashboard.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Submit, Read, Admin];
}

/// <summary>
/// API tokens: made by <c>token new</c>, configured as a name, a SHA-256 hash and scopes. A token is 32 random
/// bytes, so an unsalted fast hash is enough (nothing to brute-force), and a leaked configuration file leaks no token.
/// </summary>
public static partial class ApiTokens
{
    public const string Prefix = "rt_";
    private const string HashPrefix = "sha256:";

    [GeneratedRegex("^[A-Za-z0-9_.@-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex HashPattern();

    /// <summary>A new random token, e.g. <c>rt_Jx0...</c> (base64url, 43 characters after the prefix).</summary>
    public static string New() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>The configured form of <paramref name="token"/>: <c>sha256:&lt;hex&gt;</c>.</summary>
    public static string Hash(string token) => HashPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    public static bool IsName(string name) => NamePattern().IsMatch(name);

    /// <summary>Problems of the configured tokens, one line each naming the setting.</summary>
    public static IEnumerable<string> Validate(AuthOptions auth)
    {
        const string S = RemoteTestOptions.Section + ":Auth";
        for (var i = 0; i < auth.Tokens.Length; i++)
        {
            var t = auth.Tokens[i];
            if (!IsName(t.Name))
            {
                yield return $"{S}:Tokens:{i}:Name: '{t.Name}' is not a token name (letters, digits, '_', '.', '@', '-', at most 64)";
            }
            if (t.Name == Caller.AnonymousName)
            {
                yield return $"{S}:Tokens:{i}:Name: '{Caller.AnonymousName}' is reserved for callers without a token";
            }
            if (!HashPattern().IsMatch(t.Hash ?? ""))
            {
                // Never echo the value: it may be a plain token pasted by mistake.
                yield return $"{S}:Tokens:{i}:Hash: must be 'sha256:' and 64 lower-case hex digits, as 'token new' prints it";
            }
            if (t.Scopes.Length == 0)
            {
                yield return $"{S}:Tokens:{i}:Scopes: at least one of {string.Join(", ", ApiScopes.All)}";
            }
            foreach (var scope in t.Scopes.Where(s => !ApiScopes.All.Contains(s)))
            {
                yield return $"{S}:Tokens:{i}:Scopes: '{scope}' is not one of {string.Join(", ", ApiScopes.All)}";
            }
            if (t.RateLimit is < 0)
            {
                yield return $"{S}:Tokens:{i}:RateLimit: must not be negative";
            }
        }
        foreach (var name in auth.Tokens.GroupBy(t => t.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key))
        {
            yield return $"{S}:Tokens: the name '{name}' is used twice; a name owns tasks, so it must be unique";
        }
        foreach (var hash in auth.Tokens.GroupBy(t => t.Hash, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            yield return $"{S}:Tokens: tokens {string.Join(" and ", hash.Select(t => $"'{t.Name}'"))} have the same hash";
        }
        foreach (var scope in auth.AnonymousScopes.Where(s => !ApiScopes.All.Contains(s)))
        {
            yield return $"{S}:AnonymousScopes: '{scope}' is not one of {string.Join(", ", ApiScopes.All)}";
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
