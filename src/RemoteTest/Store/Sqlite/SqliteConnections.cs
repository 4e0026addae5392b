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
    private readonly Lock _writeLock = new();   // guards _writing and _waiting
    private bool _writing;
    private List<IPendingWrite> _waiting = [];
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
    /// Runs a write on the one writer connection, committed together with the writes that arrive while another is
    /// being committed (group commit). A write that finds the writer idle runs at once on the caller's thread, as one
    /// statement in its own transaction: nothing waits at low load. Under load the caller that holds the writer runs
    /// every write queued meanwhile in one transaction, each in a savepoint of its own (one write's failure never
    /// undoes another's), and completes their tasks after the commit. Each commit appends every page it changed to the
    /// WAL, and concurrent tasks change the same pages: three transactions per task cost about 45 page writes and
    /// their lock round trips; a commit shared by ten tasks costs a fraction of that (bench/README.md).
    /// </summary>
    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> action, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<T>(cancellationToken);
        }
        var write = new PendingWrite<T>(action);
        lock (_writeLock)
        {
            _waiting.Add(write);
            if (_writing)
            {
                return write.Task;
            }
            _writing = true;
        }
        CommitUntilIdle();
        return write.Task;
    }

    /// <summary>
    /// Commits what waits, batch after batch, until nothing does. A caller commits a few batches at most (its own
    /// write is in the first), then hands the writer to a pool thread, so its own request is not held up by a steady
    /// stream of other writes.
    /// </summary>
    private void CommitUntilIdle()
    {
        for (var round = 1; ; round++)
        {
            List<IPendingWrite> batch;
            lock (_writeLock)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }
                if (round > MaxRoundsPerCaller)
                {
                    // _writing stays true: the pool thread owns the writer from here.
                    ThreadPool.UnsafeQueueUserWorkItem(static self => self.CommitUntilIdle(), this, preferLocal: false);
                    return;
                }
                (batch, _waiting) = (_waiting, []);
            }
            Commit(batch);
        }
    }

    /// <summary>Batches one caller commits (its own write's and those queued meanwhile) before handing the writer to the pool.</summary>
    private const int MaxRoundsPerCaller = 4;

    private void Commit(List<IPendingWrite> batch)
    {
        if (batch.Count == 1)
        {
            batch[0].RunAlone(_writer);
            return;
        }
        try
        {
            CommitTogether(batch);
        }
        catch (Exception lost)
        {
            // The transaction failed as a whole (COMMIT refused, the connection gone, or SQLite rolled back by
            // itself): nothing of the batch is kept, and every write of it fails with the reason.
            try
            {
                Run("ROLLBACK");
            }
            catch (Exception)
            {
                // Already rolled back by SQLite, or the connection is gone.
            }
            batch.ForEach(w => w.Fail(lost));
            return;
        }
        batch.ForEach(w => w.Complete());
    }

    /// <summary>One transaction for the batch, a savepoint per write; throws when the batch as a whole is lost.</summary>
    private void CommitTogether(List<IPendingWrite> batch)
    {
        Run("BEGIN IMMEDIATE");
        foreach (var write in batch)
        {
            Run("SAVEPOINT w");
            if (!write.TryRun(_writer))
            {
                // Its own failure: undo its statements only. When SQLite has rolled the whole transaction back
                // itself (disk full, I/O error), the savepoint is gone and this throws: the batch is lost.
                Run("ROLLBACK TO w");
            }
            Run("RELEASE w");
        }
        Run("COMMIT");
    }

    private void Run(string sql) => Prepared(_writer, sql).ExecuteNonQuery();

    /// <summary>A write waiting for the writer: run in a batch, then completed or failed once the batch's fate is known.</summary>
    private interface IPendingWrite
    {
        /// <summary>Runs alone, in its own transaction, and completes at once.</summary>
        void RunAlone(SqliteConnection c);

        /// <summary>Runs inside the batch's transaction; false when it threw (its savepoint is rolled back).</summary>
        bool TryRun(SqliteConnection c);

        /// <summary>The batch committed: the result (or the write's own exception) is delivered.</summary>
        void Complete();

        /// <summary>The batch was lost: every write of it fails with the reason.</summary>
        void Fail(Exception reason);
    }

    /// <summary>
    /// Continuations run asynchronously: the committing thread completes a whole batch and must not run each
    /// waiting request's remainder inline before the next one's.
    /// </summary>
    private sealed class PendingWrite<T>(Func<SqliteConnection, T> action)
        : TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously), IPendingWrite
    {
        private T? _result;
        private Exception? _error;

        public void RunAlone(SqliteConnection c)
        {
            if (TryRun(c))
            {
                TrySetResult(_result!);
            }
            else
            {
                TrySetException(_error!);
            }
        }

        public bool TryRun(SqliteConnection c)
        {
            try
            {
                _result = action(c);
                return true;
            }
            catch (Exception ex)
            {
                _error = ex;
                return false;
            }
        }

        public void Complete()
        {
            if (_error is null)
            {
                TrySetResult(_result!);
            }
            else
            {
                TrySetException(_error);
            }
        }

        public void Fail(Exception reason) => TrySetException(_error ?? reason);
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
