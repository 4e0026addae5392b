using RemoteTest.Security;

namespace RemoteTest.Store;

/// <summary>The API tokens managed at run time, in their own table of the same schema (created on first use).</summary>
public sealed partial class PostgresTaskStore : IApiTokenStore
{
    private const string K = $"{PostgresSchema.Name}.api_tokens";
    private int _tokensReady;

    private async Task EnsureTokensAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _tokensReady) == 1)
        {
            return;
        }
        await ExecuteAsync($"""
            CREATE TABLE IF NOT EXISTS {K} (
                name TEXT PRIMARY KEY,
                hash TEXT NOT NULL UNIQUE,
                scopes TEXT NOT NULL,
                rate_limit INTEGER NULL,
                created BIGINT NOT NULL,
                expires BIGINT NULL,
                revoked BIGINT NULL)
            """, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _tokensReady, 1);
    }

    public async Task<bool> AddTokenAsync(StoredApiToken token, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync($"INSERT INTO {K} ({StoredApiToken.Columns}) VALUES (@name, @hash, @scopes, @rate, @created, @expires, NULL) ON CONFLICT DO NOTHING",
            cancellationToken, ("name", token.Name), ("hash", token.Hash), ("scopes", string.Join(',', token.Scopes)), ("rate", token.RateLimit),
            ("created", token.Created.ToUnixTimeMilliseconds()), ("expires", token.Expires?.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1;
    }

    public async Task<StoredApiToken?> FindTokenByHashAsync(string hash, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryAsync($"SELECT {StoredApiToken.Columns} FROM {K} WHERE hash = @hash", StoredApiToken.Read, cancellationToken, [("hash", hash)])
            .ConfigureAwait(false)).FirstOrDefault();
    }

    public async Task<StoredApiToken?> GetTokenAsync(string name, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryAsync($"SELECT {StoredApiToken.Columns} FROM {K} WHERE name = @name", StoredApiToken.Read, cancellationToken, [("name", name)])
            .ConfigureAwait(false)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<StoredApiToken>> ListTokensAsync(CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await QueryAsync($"SELECT {StoredApiToken.Columns} FROM {K} ORDER BY name COLLATE \"C\"", StoredApiToken.Read, cancellationToken, []).ConfigureAwait(false);
    }

    public async Task<bool> RevokeTokenAsync(string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await EnsureTokensAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync($"UPDATE {K} SET revoked = @now WHERE name = @name AND revoked IS NULL", cancellationToken,
            ("name", name), ("now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1;
    }
}
