using RemoteTest.Security;

namespace RemoteTest.Store;

/// <summary>The API tokens managed at run time, in their own table of the schema (<see cref="PostgresSchema"/>, created with the others under its lock).</summary>
public sealed partial class PostgresTaskStore : IApiTokenStore
{
    private const string K = $"{PostgresSchema.Name}.api_tokens";

    public async Task<bool> AddTokenAsync(StoredApiToken token, CancellationToken cancellationToken)
    {
        return await ExecuteAsync($"INSERT INTO {K} ({Rows.TokenColumns}) VALUES (@name, @hash, @scopes, @rate, @created, @expires, NULL) ON CONFLICT DO NOTHING",
            cancellationToken, Rows.TokenValues(token)).ConfigureAwait(false) == 1;
    }

    public async Task<StoredApiToken?> FindTokenByHashAsync(string hash, CancellationToken cancellationToken)
    {
        return (await QueryAsync($"SELECT {Rows.TokenColumns} FROM {K} WHERE hash = @hash", Rows.ReadToken, cancellationToken, [("hash", hash)])
            .ConfigureAwait(false)).FirstOrDefault();
    }

    public async Task<StoredApiToken?> GetTokenAsync(string name, CancellationToken cancellationToken)
    {
        return (await QueryAsync($"SELECT {Rows.TokenColumns} FROM {K} WHERE name = @name", Rows.ReadToken, cancellationToken, [("name", name)])
            .ConfigureAwait(false)).FirstOrDefault();
    }

    public async Task<IReadOnlyList<StoredApiToken>> ListTokensAsync(CancellationToken cancellationToken)
    {
        return await QueryAsync($"SELECT {Rows.TokenColumns} FROM {K} ORDER BY name COLLATE \"C\"", Rows.ReadToken, cancellationToken, []).ConfigureAwait(false);
    }

    public async Task<bool> RevokeTokenAsync(string name, DateTimeOffset now, CancellationToken cancellationToken)
    {
        return await ExecuteAsync($"UPDATE {K} SET revoked = @now WHERE name = @name AND revoked IS NULL", cancellationToken,
            ("name", name), ("now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1;
    }
}
