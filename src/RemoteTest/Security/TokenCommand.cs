using System.Text.Json;

namespace RemoteTest.Security;

/// <summary>
/// <c>RemoteTest token new --name NAME --scopes submit,read</c>: prints a new API token (once; it is stored nowhere)
/// and the configuration that accepts it (its hash). <c>RemoteTest token hash</c> hashes a token read from stdin.
/// </summary>
public static class TokenCommand
{
    private const string Usage = "usage: RemoteTest token new --name NAME [--scopes submit,read,admin] [--rate-limit N] | RemoteTest token hash < token";

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "token";

    /// <returns>0, or 2 for a usage error (as configuration errors).</returns>
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
            stdout.WriteLine(ApiTokens.Hash(given));
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
        for (var i = 2; i < args.Length; i++)
        {
            var (key, value) = Option(args, ref i);
            switch (key)
            {
                case "--name": name = value; break;
                case "--scopes": scopes = value?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? []; break;
                case "--rate-limit" when int.TryParse(value, out var n) && n >= 0: rateLimit = n; break;
                default:
                    stderr.WriteLine($"remotetest: token new: unknown or bad option '{args[i]}'; {Usage}");
                    return 2;
            }
        }

        var options = new ApiTokenOptions { Name = name ?? "", Scopes = scopes, RateLimit = rateLimit };
        var token = ApiTokens.New();
        options.Hash = ApiTokens.Hash(token);
        var problems = ApiTokens.Validate(new AuthOptions { Tokens = [options] }).ToList();
        if (name is null || problems.Count > 0)
        {
            stderr.WriteLine($"remotetest: token new: {(name is null ? "--name is required" : string.Join("; ", problems))}");
            return 2;
        }

        var entry = new Dictionary<string, object> { ["Name"] = options.Name, ["Hash"] = options.Hash, ["Scopes"] = options.Scopes };
        if (rateLimit is { } r)
        {
            entry["RateLimit"] = r;
        }
        stdout.WriteLine($"token: {token}");
        stdout.WriteLine($"hash:  {options.Hash}");
        stdout.WriteLine();
        stdout.WriteLine("Give the token to its holder now; it is not stored anywhere. Clients send it as 'Authorization: Bearer <token>'.");
        stdout.WriteLine("Add this entry to RemoteTest:Auth:Tokens in appsettings.json:");
        stdout.WriteLine("  " + JsonSerializer.Serialize(entry));
        stdout.WriteLine("or as environment variables (N: the entry's index in the list):");
        stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__NAME={options.Name}");
        stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__HASH={options.Hash}");
        for (var i = 0; i < options.Scopes.Length; i++)
        {
            stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__SCOPES__{i}={options.Scopes[i]}");
        }
        if (rateLimit is { } limit)
        {
            stdout.WriteLine($"  REMOTETEST__AUTH__TOKENS__N__RATELIMIT={limit}");
        }
        return 0;
    }

    private static (string Key, string? Value) Option(string[] args, ref int i)
    {
        var arg = args[i];
        var eq = arg.IndexOf('=');
        if (eq > 0)
        {
            return (arg[..eq], arg[(eq + 1)..]);
        }
        return i + 1 < args.Length ? (arg, args[++i]) : (arg, null);
    }
}
