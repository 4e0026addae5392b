using RemoteTest.Store;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Store;

/// <summary>
/// The submission gate's count (<see cref="ITaskStore.CountUnfinishedAsync"/>, one bounded COUNT per provider)
/// against what a client sees by paging through the caller's whole history: the two must agree for every
/// bound, across more rows than one page holds, with the other states and the other owners' tasks beside them.
/// </summary>
public abstract class UnfinishedCountContract
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty store with its schema created.</summary>
    protected abstract Task<ITaskStore> CreateStoreAsync();

    [SkippableFact]
    public async Task The_count_equals_paging_through_the_callers_rows()
    {
        var store = await CreateStoreAsync();
        var ct = CancellationToken.None;
        var inserted = 0;
        async Task<TaskRecord> Add(string? owner)
        {
            // Three tasks share each submission time: the pages' tie-break by id is exercised too.
            var t = TaskRecord.New("porttest.run", "default", "{}", owner, T0.AddMilliseconds(inserted++ / 3));
            await store.InsertAsync(t, ct);
            return t;
        }

        // alice: more unfinished tasks than one page (TaskQuery.MaxLimit) holds, in both unfinished states,
        // beside her finished and revoked ones; bob and ownerless tasks must not be counted for her.
        for (var i = 0; i < TaskQuery.MaxLimit + 20; i++)
        {
            var t = await Add("alice");
            if (i % 9 == 0)
            {
                Assert.NotNull(await store.TryStartAsync(t.Id, "w", T0, ct));
            }
        }
        for (var i = 0; i < 6; i++)
        {
            var t = await Add("alice");
            await store.TryStartAsync(t.Id, "w", T0, ct);
            Assert.True(await store.FinishAsync(t.Id, i % 2 == 0 ? TaskState.Success : TaskState.Failure, "{}", null, "{}", null, T0, null, ct));
        }
        for (var i = 0; i < 4; i++)
        {
            var t = await Add("alice");
            await store.RevokeAsync(t.Id, "{}", "revoked", T0, ct);
        }
        for (var i = 0; i < 5; i++)
        {
            var t = await Add("bob");
            if (i == 0)
            {
                await store.TryStartAsync(t.Id, "w", T0, ct);
            }
            await Add(null);
        }

        var alice = await UnfinishedByPagingAsync(store, "alice");
        Assert.Equal(TaskQuery.MaxLimit + 20, alice);
        Assert.Equal(5, await UnfinishedByPagingAsync(store, "bob"));

        foreach (var bound in new[] { 1, 7, TaskQuery.MaxLimit, alice - 1, alice, alice + 1, 10_000 })
        {
            Assert.Equal(Math.Min(alice, bound), await store.CountUnfinishedAsync("alice", bound, ct));
            Assert.Equal(Math.Min(alice, bound), await ITaskStore.CountUnfinishedByPagingAsync(store, "alice", bound, ct));
        }
        Assert.Equal(5, await store.CountUnfinishedAsync("bob", 1000, ct));
        Assert.Equal(0, await store.CountUnfinishedAsync("carol", 1000, ct));

        // Finishing one task changes both answers alike.
        var page = await store.ListAsync(new TaskQuery(State: TaskState.Started, Owner: "alice", Limit: 1), ct);
        var started = Assert.Single(page.Tasks);
        Assert.True(await store.FinishAsync(started.Id, TaskState.Success, "{}", null, "{}", null, T0, null, ct));
        Assert.Equal(alice - 1, await UnfinishedByPagingAsync(store, "alice"));
        Assert.Equal(alice - 1, await store.CountUnfinishedAsync("alice", 10_000, ct));
    }

    /// <summary>The ground truth: every one of the owner's tasks, page by page (no state filter), counted by state.</summary>
    private static async Task<int> UnfinishedByPagingAsync(ITaskStore store, string owner)
    {
        var seen = new HashSet<Guid>();
        var unfinished = 0;
        TaskCursor? after = null;
        for (var pages = 0; pages < 100; pages++)
        {
            var page = await store.ListAsync(new TaskQuery(Owner: owner, After: after, Limit: 97), CancellationToken.None);
            foreach (var t in page.Tasks)
            {
                Assert.True(seen.Add(t.Id), $"task {t.Id} on two pages");
                Assert.Equal(owner, t.Owner);
                unfinished += t.State is TaskState.Pending or TaskState.Started ? 1 : 0;
            }
            after = page.Next;
            if (after is null)
            {
                return unfinished;
            }
        }
        throw new InvalidOperationException("more than 100 pages");
    }
}

/// <summary>On the embedded default: a SQLite file (WAL, separate read connections).</summary>
public sealed class SqliteFileUnfinishedCountTests : UnfinishedCountContract, IDisposable
{
    private readonly SqliteStoreFiles _files = new();

    protected override async Task<ITaskStore> CreateStoreAsync() => await _files.CreateAsync();

    public void Dispose() => _files.Dispose();
}

/// <summary>SQLite store files in a temporary directory of their own, deleted with the stores.</summary>
public sealed class SqliteStoreFiles : IDisposable
{
    private readonly List<SqliteTaskStore> _stores = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "remotetest-store-" + Guid.NewGuid().ToString("N"));

    /// <summary>A new store in a new file, its schema created.</summary>
    public async Task<SqliteTaskStore> CreateAsync()
    {
        Directory.CreateDirectory(_directory);
        var store = SqliteTaskStore.OpenFile(Path.Combine(_directory, $"{_stores.Count}.db"));
        _stores.Add(store);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public void Dispose()
    {
        _stores.ForEach(s => s.Dispose());
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>On <c>Storage:Kind=memory</c>: an in-memory SQLite database, one connection.</summary>
public sealed class InMemoryUnfinishedCountTests : UnfinishedCountContract, IDisposable
{
    private readonly List<SqliteTaskStore> _stores = [];

    protected override async Task<ITaskStore> CreateStoreAsync()
    {
        var store = SqliteTaskStore.OpenInMemory();
        _stores.Add(store);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public void Dispose() => _stores.ForEach(s => s.Dispose());
}

/// <summary>On the shared PostgreSQL store, on a real server (skipped where none can be started).</summary>
[Collection(ServersCollection.Name)]
public sealed class PostgresUnfinishedCountTests(ServersFixture servers) : UnfinishedCountContract, IAsyncLifetime
{
    private readonly List<Npgsql.NpgsqlDataSource> _sources = [];

    protected override async Task<ITaskStore> CreateStoreAsync()
    {
        var server = await servers.PostgresAsync();
        var source = PostgresServices.CreateDataSource(await server.CreateDatabaseAsync());
        _sources.Add(source);
        var store = new PostgresTaskStore(source, TimeSpan.FromSeconds(30));
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var s in _sources)
        {
            await s.DisposeAsync();
        }
    }
}
