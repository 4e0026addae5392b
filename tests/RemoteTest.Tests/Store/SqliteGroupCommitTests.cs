using Microsoft.Data.Sqlite;
using RemoteTest.Store;

namespace RemoteTest.Tests.Store;

/// <summary>
/// The SQLite writer's group commit (<see cref="SqliteConnections.WriteAsync"/>): writes that queue while another
/// is committed share one transaction, yet each keeps its own outcome. The first write is held inside the writer
/// so the others are known to queue behind it and to be committed as one batch.
/// </summary>
public sealed class SqliteGroupCommitTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "remotetest-groupcommit-" + Guid.NewGuid().ToString("N"));
    private readonly SqliteConnections _db;

    public SqliteGroupCommitTests()
    {
        Directory.CreateDirectory(_directory);
        _db = SqliteConnections.OpenFile(Path.Combine(_directory, "t.db"));
        _db.WriteAsync(c =>
        {
            SqliteConnections.Execute(c, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
            return 0;
        }, CancellationToken.None).GetAwaiter().GetResult();
    }

    /// <summary>Starts a write that holds the writer until <paramref name="release"/> is set, and waits until it does.</summary>
    private Task<int> HoldWriter(ManualResetEventSlim release)
    {
        using var holding = new ManualResetEventSlim();
        var held = Task.Run(() => _db.WriteAsync(c =>
        {
            holding.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return Insert(c, 1, "first");
        }, CancellationToken.None));
        Assert.True(holding.Wait(TimeSpan.FromSeconds(30)), "the first write never ran");
        return held;
    }

    private static int Insert(SqliteConnection c, long id, string value)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "INSERT INTO t (id, v) VALUES ($id, $v)";
        cmd.Parameters.AddWithValue("$id", id);
        cmd.Parameters.AddWithValue("$v", value);
        return cmd.ExecuteNonQuery();
    }

    private Task<List<(long, string)>> ReadAll() => _db.ReadAsync(c =>
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, v FROM t ORDER BY id";
        using var reader = cmd.ExecuteReader();
        var rows = new List<(long, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetInt64(0), reader.GetString(1)));
        }
        return rows;
    }, CancellationToken.None);

    [Fact]
    public async Task Queued_writes_commit_together_and_a_failing_one_undoes_only_itself()
    {
        using var release = new ManualResetEventSlim();
        var first = HoldWriter(release);

        // Queued behind the held write: 2..21 succeed, the duplicate of 1 fails, the one that inserts 100 and then
        // fails on a duplicate must leave no trace of its first statement.
        var queued = Enumerable.Range(2, 20).Select(i => _db.WriteAsync(c => Insert(c, i, $"v{i}"), CancellationToken.None)).ToList();
        var duplicate = _db.WriteAsync(c => Insert(c, 1, "duplicate"), CancellationToken.None);
        var halfDone = _db.WriteAsync(c => Insert(c, 100, "half") + Insert(c, 2, "again"), CancellationToken.None);
        Assert.All(queued, t => Assert.False(t.IsCompleted));

        release.Set();
        Assert.Equal(1, await first);
        Assert.All(await Task.WhenAll(queued), n => Assert.Equal(1, n));
        var error = await Assert.ThrowsAsync<SqliteException>(() => duplicate);
        Assert.Contains("UNIQUE", error.Message, StringComparison.OrdinalIgnoreCase);
        await Assert.ThrowsAsync<SqliteException>(() => halfDone);

        var rows = await ReadAll();
        Assert.Equal([(1L, "first"), .. Enumerable.Range(2, 20).Select(i => ((long)i, $"v{i}"))], rows);
    }

    [Fact]
    public async Task Each_queued_write_gets_its_own_result_and_a_write_after_the_batch_runs_alone()
    {
        using var release = new ManualResetEventSlim();
        var first = HoldWriter(release);
        var queued = Enumerable.Range(2, 10).Select(i => _db.WriteAsync(c =>
        {
            Insert(c, i, $"v{i}");
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT COUNT(*) FROM t WHERE id <= $id";
            cmd.Parameters.AddWithValue("$id", i);
            return (Id: i, Seen: Convert.ToInt32(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        }, CancellationToken.None)).ToList();
        release.Set();
        await first;
        // Inside the batch each write sees the writes committed or run before it: ids 1..i are all there.
        foreach (var (id, seen) in await Task.WhenAll(queued))
        {
            Assert.Equal(id, seen);
        }

        // The writer is idle again: the next write runs on the caller's thread and is complete on return.
        var alone = _db.WriteAsync(c => Insert(c, 50, "alone"), CancellationToken.None);
        Assert.True(alone.IsCompletedSuccessfully);
        Assert.Equal(12, (await ReadAll()).Count);
    }

    [Fact]
    public async Task A_batch_rolled_back_as_a_whole_fails_every_write_of_it_and_the_writer_goes_on()
    {
        using var release = new ManualResetEventSlim();
        var first = HoldWriter(release);
        var before = _db.WriteAsync(c => Insert(c, 2, "before"), CancellationToken.None);
        // What SQLite does by itself on a disk-full or I/O error: the whole transaction is rolled back.
        var rollsBack = _db.WriteAsync<int>(c =>
        {
            SqliteConnections.Execute(c, "ROLLBACK");
            throw new IOException("disk full");
        }, CancellationToken.None);
        var after = _db.WriteAsync(c => Insert(c, 3, "after"), CancellationToken.None);
        release.Set();
        await first;

        // Nothing of the batch was kept, so none of its writes may claim success.
        await Assert.ThrowsAnyAsync<Exception>(() => before);
        await Assert.ThrowsAsync<IOException>(() => rollsBack);
        await Assert.ThrowsAnyAsync<Exception>(() => after);
        Assert.Equal([(1L, "first")], await ReadAll());

        // The writer is not stuck: the next writes run and commit.
        Assert.Equal(1, await _db.WriteAsync(c => Insert(c, 4, "next"), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal([(1L, "first"), (4L, "next")], await ReadAll());
    }

    [Fact]
    public async Task Many_concurrent_writers_lose_nothing()
    {
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                await _db.WriteAsync(c => Insert(c, 1000 + w * 1000 + i, "x"), CancellationToken.None);
            }
        }));
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(2000, (await ReadAll()).Count);
    }

    public void Dispose()
    {
        _db.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
