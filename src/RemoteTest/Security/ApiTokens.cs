namespace RemoteTest.Security;

/// <summary>Checks the configured API tokens (the token format itself is <see cref="TokenFormat"/>).</summary>
public static class ApiTokens
{
    public static string New() => TokenFormat.New();

    public static string Hash(string token) => TokenFormat.Hash(token);

    /// <summary>Problems of the configured tokens, one line each naming the setting.</summary>
    public static IEnumerable<string> Validate(AuthOptions auth)
    {
        const string S = RemoteTestOptions.Section + ":Auth";
        for (var i = 0; i < auth.Tokens.Length; i++)
        {
            var t = auth.Tokens[i];
            foreach (var problem in TokenFormat.Problems($"{S}:Tokens:{i}:", t.Name, t.Scopes))
            {
                yield return problem;
            }
            if (!TokenFormat.IsHash(t.Hash))
            {
                // Never echo the value: it may be a plain token pasted by mistake.
                yield return $"{S}:Tokens:{i}:Hash: must be 'sha256:' and 64 lower-case hex digits, as 'token new' prints it";
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
        if (auth.AnonymousScopes.Contains(ApiScopes.Admin))
        {
            yield return $"{S}:AnonymousScopes: 'admin' cannot be given to anonymous callers; create a token with 'token new --scopes admin'";
        }
    }
}
