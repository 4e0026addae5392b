using System.Collections.Concurrent;

namespace RemoteTest.Security;

/// <summary>An API token kept in the task store (created through <c>POST /tokens</c>): only its hash is stored.</summary>
public sealed record StoredApiToken(
    string Name, string Hash, IReadOnlyList<string> Scopes, int? RateLimit, DateTimeOffset Created, DateTimeOffset? Expires, DateTimeOffset? Revoked)
{
    /// <summary>Why the token cannot be used at <paramref name="now"/>, or null when it can.</summary>
    public string? Unusable(DateTimeOffset now) =>
        Revoked is not null ? "the token has been revoked"
        : Expires is { } e && e <= now ? "the token has expired"
        : null;
}

/// <summary>
/// Tokens managed at run time (the admin API and the CLI), beside the configuration file's: every node reads the
/// same store, so a revocation takes effect on the next request everywhere, without a restart.
/// </summary>
public interface IApiTokenStore
{
    /// <summary>Adds a token; false when the name is taken.</summary>
    Task<bool> AddTokenAsync(StoredApiToken token, CancellationToken cancellationToken);

    Task<StoredApiToken?> FindTokenByHashAsync(string hash, CancellationToken cancellationToken);

    Task<StoredApiToken?> GetTokenAsync(string name, CancellationToken cancellationToken);

    Task<IReadOnlyList<StoredApiToken>> ListTokensAsync(CancellationToken cancellationToken);

    /// <summary>Marks the token revoked; false when there is no such token (or it was revoked already).</summary>
    Task<bool> RevokeTokenAsync(string name, DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>For a task store without token tables: tokens live as long as the process.</summary>
public sealed class ProcessApiTokenStore : IApiTokenStore
{
    private readonly ConcurrentDictionary<string, StoredApiToken> _byName = new(StringComparer.Ordinal);

    public Task<bool> AddTokenAsync(StoredApiToken token, CancellationToken cancellationToken) => Task.FromResult(_byName.TryAdd(token.Name, token));

    public Task<StoredApiToken?> FindTokenByHashAsync(string hash, CancellationToken cancellationToken) =>
        Task.FromResult(_byName.Values.FirstOrDefault(t => t.Hash == hash));

    public Task<StoredApiToken?> GetTokenAsync(string name, CancellationToken cancellationToken) => Task.FromResult(_byName.GetValueOrDefault(name));

    public Task<IReadOnlyList<StoredApiToken>> ListTokensAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<StoredApiToken>>(_byName.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());

    public Task<bool> RevokeTokenAsync(string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        while (_byName.TryGetValue(name, out var t) && t.Revoked is null)
        {
            if (_byName.TryUpdate(name, t with { Revoked = now }, t))
            {
                return Task.FromResult(true);
            }
        }
        return Task.FromResult(false);
    }
}
