using Npgsql;

namespace RemoteTest.Store;

/// <summary>
/// Creates RemoteTest's tables (schema <c>remotetest</c>) in a PostgreSQL database. A database of a version
/// before engine v2 also holds Hangfire's schema (<c>hangfire</c>); it is left as it is (README, upgrading). Every statement is idempotent and the whole preparation runs under one advisory
/// lock, so any number of nodes may start against a fresh database at the same moment: the first creates,
/// the others wait for it and then find everything in place.
/// </summary>
public static class PostgresSchema
{
    /// <summary>Schema of RemoteTest's own tables.</summary>
    public const string Name = "remotetest";

    /// <summary>Key of the advisory lock held while the schema is prepared (an arbitrary constant: "RTSCHEMA").</summary>
    private const long LockKey = 0x5254_5343_4845_4D41;

    /// <summary>How long a node keeps trying to reach the database at start before giving up.</summary>
    private static readonly TimeSpan StartupPatience = TimeSpan.FromSeconds(60);

    /// <summary>What PostgreSQL writes differently in the tables both dialects share.</summary>
    internal static readonly SqlTypes Types = new(Prefix: $"{Name}.", TaskId: "TEXT COLLATE \"C\"", Time: "BIGINT");

    /// <summary>The shared tables (<see cref="TableSql"/>) and PostgreSQL's own: workers, the key ring, extra task columns and indexes.</summary>
    private static readonly string Tables =
        $"CREATE SCHEMA IF NOT EXISTS {Name};\n"
        + TableSql.Tasks(Types)
        + $"""
            -- When a sweep last enqueued the task again (orphan of a dead worker, or PENDING with no job): at most once per period.
            ALTER TABLE {Name}.tasks ADD COLUMN IF NOT EXISTS date_requeued BIGINT NULL;
            -- Tasks/TaskVerdict, written when the task finishes; rows stored before it are filled in by the store's start-up.
            ALTER TABLE {Name}.tasks ADD COLUMN IF NOT EXISTS verdict TEXT NULL;
            CREATE INDEX IF NOT EXISTS ix_tasks_running ON {Name}.tasks(worker) WHERE state = 'STARTED';
            CREATE INDEX IF NOT EXISTS ix_tasks_pending ON {Name}.tasks(date_submitted) WHERE state = 'PENDING';

            """
        + TableSql.VerdictIndex(Types)
        + TableSql.Schedules(Types)
        + $"""
            CREATE TABLE IF NOT EXISTS {Name}.workers (
                name TEXT PRIMARY KEY,
                instance TEXT NOT NULL,
                location TEXT NULL,
                queues TEXT NOT NULL,
                version TEXT NULL,
                date_started BIGINT NOT NULL,
                heartbeat BIGINT NOT NULL,
                running INTEGER NOT NULL
            );

            """
        + TableSql.Baselines(Types)
        + TableSql.ApiTokens(Types)
        + $"""
            CREATE TABLE IF NOT EXISTS {Name}.data_protection_keys (
                id TEXT PRIMARY KEY,
                xml TEXT NOT NULL,
                date_created BIGINT NOT NULL
            );
            """;

    /// <summary>Prepares the schema; retries while the database is not reachable yet (nodes may start before it).</summary>
    public static async Task EnsureAsync(NpgsqlDataSource dataSource, ILogger? log, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + StartupPatience;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PrepareAsync(dataSource, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (IsTransient(ex) && DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                log?.LogWarning("PostgreSQL not reachable yet (attempt {Attempt}): {Message}; retrying", attempt, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>True for errors that go away by themselves: the server starting, restarting or not listening yet.</summary>
    public static bool IsTransient(Exception ex) => ex switch
    {
        NpgsqlException { IsTransient: true } => true,
        PostgresException p => p.SqlState is "57P01" or "57P02" or "57P03" or "53300",
        NpgsqlException { InnerException: System.Net.Sockets.SocketException or IOException } => true,
        _ => false,
    };

    private static async Task PrepareAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", LockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        try
        {
            await using (var create = new NpgsqlCommand(Tables, connection))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", LockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }
}
