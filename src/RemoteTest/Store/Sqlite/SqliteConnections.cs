using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace RemoteTest.Store;

/// <summary>
/// The connections of one SQLite database: a file in the data directory (WAL) for the embedded default, or an
/// in-memory database for tests. SQLite takes one writer at a time, so writes share one connection behind a lock
/// instead of contending for the file lock; reads of a file database use connections of their own, kept open
/// in a small pool. The statements every task runs (insert, start, finish, get) stay prepared on each
/// connection: preparing them again each time cost about a quarter of the store's CPU per task (bench/README.md).
/// </summary>
internal sealed class SqliteConnections : IDisposable
{
    private readonly string? _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly Lock _writeLock = new();
    private readonly ConcurrentBag<SqliteConnection> _readers = [];
    private volatile bool _disposed;
    private readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> _prepared = [];

    /// <summary>Read connections kept open between reads; more may be open at once, the rest are closed after use.</summary>
    private static readonly int MaxIdleReaders = Math.Max(4, 2 * Environment.ProcessorCount);

    private SqliteConnections(SqliteConnection writer, string? readConnectionString)
    {
        _writer = writer;
        _readConnectionString = readConnectionString;
    }

    /// <summary>The SQLite file <paramref name="path"/>, created when missing.</summary>
    public static SqliteConnections OpenFile(string path)
    {
        var cs = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
        var writer = new SqliteConnection(cs);
        writer.Open();
        // WAL lets readers run beside the writer; NORMAL keeps commits durable across a process crash
        // (only an OS crash can lose the last transactions), at a fraction of FULL's fsync cost.
        Execute(writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;");
        return new SqliteConnections(writer, cs);
    }

    /// <summary>A database that lives as long as this object; reads and writes share its one connection.</summary>
    public static SqliteConnections OpenInMemory()
    {
        var writer = new SqliteConnection("Data Source=:memory:");
        writer.Open();
        return new SqliteConnections(writer, null);
    }

    /// <summary>
    /// Runs a write on the one writer connection. A plain lock, not an async one: a write takes tens of
    /// microseconds, far less than queueing a continuation for an async waiter costs (bench/README.md).
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (_writeLock)
            {
                return Task.FromResult(action(_writer));
            }
        }
        catch (Exception ex)
        {
            // Callers may fire and forget (progress): the exception travels in the task, as before.
            return Task.FromException<T>(ex);
        }
    }

    /// <summary>Runs a read on a connection of its own (a file database), or on the writer (in memory).</summary>
    public async Task<T> ReadAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        if (_readConnectionString is null)
        {
            return await WriteAsync(action, cancellationToken).ConfigureAwait(false);
        }
        if (!_readers.TryTake(out var c))
        {
            c = new SqliteConnection(_readConnectionString);
            c.Open();
        }
        try
        {
            return action(c);
        }
        finally
        {
            if (!_disposed && _readers.Count < MaxIdleReaders)
            {
                _readers.Add(c);
            }
            else
            {
                c.Dispose();
            }
        }
    }

    /// <summary>
    /// The command for <paramref name="sql"/> on <paramref name="c"/>, prepared once and kept with the
    /// connection (each connection serves one caller at a time); its parameters are cleared for the caller.
    /// </summary>
    public SqliteCommand Prepared(SqliteConnection c, string sql)
    {
        var commands = _prepared.GetOrCreateValue(c);
        if (!commands.TryGetValue(sql, out var cmd))
        {
            cmd = c.CreateCommand();
            cmd.CommandText = sql;
            commands[sql] = cmd;
        }
        cmd.Parameters.Clear();
        return cmd;
    }

    /// <summary>Every row <paramref name="cmd"/> selects, mapped by <paramref name="map"/> (one of <see cref="Rows"/>).</summary>
    public static List<T> ReadAll<T>(SqliteCommand cmd, Func<DbDataReader, T> map)
    {
        using var reader = cmd.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
        {
            list.Add(map(reader));
        }
        return list;
    }

    /// <summary>Adds the values of a row (<see cref="Rows.TaskValues"/>) as <c>$name</c> parameters; null becomes SQL NULL.</summary>
    public static void Add(SqliteCommand cmd, (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            cmd.Parameters.AddWithValue("$" + name, value ?? DBNull.Value);
        }
    }

    /// <summary>Runs statements that return nothing (schema, pragmas).</summary>
    public static void Execute(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        _disposed = true;
        while (_readers.TryTake(out var c))
        {
            c.Dispose();
        }
        _writer.Dispose();
    }
}
