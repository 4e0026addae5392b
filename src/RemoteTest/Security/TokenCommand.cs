using System.Text.Json;

// Compiled into the service (RemoteTest token new) and, linked, into the CLI (remotetest token new).
#if REMOTETEST_CLI
namespace RemoteTest.Cli.Security;
#else
namespace RemoteTest.Security;
#endif

/// <summary>
/// <c>token new --name NAME --scopes submit,read</c>: prints a new API token (once; it is stored nowhere) and the
/// configuration that accepts it (its hash). <c>token hash</c> hashes a token read from standard input.
/// </summary>
public static class TokenCommand
{
    private const string Usage = "usage: token new --name NAME [--scopes submit,read,admin] [--rate-limit N] [--expires 90d|ISO-DATE] | token hash < token";

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "token";

    /// <summary>Runs <c>token ...</c>; returns 0, or 2 for a usage error (as configuration errors).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null)
    {
        if (args.Length >= 2 && args[1] == "hash")
        {
            var given = (stdin ?? Console.In).ReadLine()?.Trim();
            if (string.IsNullOrEmpty(given))
            {
                stderr.WriteLine("remotetest: token hash: give the token on standard input");
                return 2;
            }
            stdout.WriteLine(TokenFormat.Hash(given));
            return 0;
        }
        if (args.Length < 2 || args[1] != "new")
        {
            stderr.WriteLine(Usage);
            return 2;
        }

        string? name = null;
        string[] scopes = [ApiScopes.Submit, ApiScopes.Read];
        int? rateLimit = null;
        string? expires = null;
        for (var i = 2; i < args.Length; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=');
            var (key, value) = eq > 0 ? (arg[..eq], arg[(eq + 1)..]) : (arg, i + 1 < args.Length ? args[++i] : null);
            switch (key)
            {
                case "--name": name = value; break;
                case "--scopes": scopes = value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? []; break;
                case "--rate-limit" when int.TryParse(value, out var n) && n >= 0: rateLimit = n; break;
                case "--expires" when value is not null: expires = value; break;
                default:
                    stderr.WriteLine($"remotetest: token new: unknown or bad option '{arg}'; {Usage}");
                    return 2;
            }
        }
        return New(name, scopes, rateLimit, stdout, stderr, expires);
    }

    /// <summary>Makes and prints one token with its configuration; 2 when the name or scopes are not valid.</summary>
    /// <remarks><paramref name="expires"/>: a duration (<c>90d</c>, <c>12h</c>, <c>2w</c>) or an ISO 8601 date; the entry gets <c>Expires</c>.</remarks>
    public static int New(string? name, IReadOnlyList<string> scopes, int? rateLimit, TextWriter stdout, TextWriter stderr, string? expires = null)
    {
        var problems = name is null ? ["--name is required"] : TokenFormat.Problems("--", name, scopes).Select(p => p.Replace("--Name", "--name").Replace("--Scopes", "--scopes")).ToList();
        DateTimeOffset? expiresAt = null;
        if (expires is not null)
        {
            expiresAt = TokenExpiry.Parse(expires, DateTimeOffset.UtcNow, out var error);
            if (expiresAt is null)
            {
                problems.Add($"--expires: {error}");
            }
        }
        if (problems.Count > 0)
        {
            stderr.WriteLine($"remotetest: token new: {string.Join("; ", problems)}");
            return 2;
        }

        var token = TokenFormat.New();
        var hash = TokenFormat.Hash(token);
        var entry = new Dictionary<string, object> { ["Name"] = name!, ["Hash"] = hash, ["Scopes"] = scopes };
        if (rateLimit is { } r)
        {
            entry["RateLimit"] = r;
        }
        var expiresText = expiresAt?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        if (expiresText is not null)
        {
            entry["Expires"] = expiresText;
        }
        stdout.WriteLine($"token: {token}");
        stdout.WriteLine($"hash:  {hash}");
        stdout.WriteLine();
        stdout.WriteLine("Give the token to its holder now; it is not stored anywhere. Clients send it as 'Authorization: Bearer <token>'.");
        stdout.WriteLine("Add this entry to RemoteTest:Auth:Tokens in the service's appsettings.json:");
        stdout.WriteLine("  " + JsonSerializer.Serialize(entry));
        stdout.WriteLine("or as the service's environment variables (N: the entry's index in the list):");
        stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__NAME={name}");
        stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__HASH={hash}");
        for (var i = 0; i < scopes.Count; i++)
        {
            stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__SCOPES__{i}={scopes[i]}");
        }
        if (rateLimit is { } limit)
        {
            stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__RATELIMIT={limit}");
        }
        if (expiresText is not null)
        {
            stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__EXPIRES={expiresText}");
        }
        return 0;
    }
}
