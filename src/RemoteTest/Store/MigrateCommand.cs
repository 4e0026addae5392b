using System.Xml.Linq;

namespace RemoteTest.Store;

/// <summary>
/// <c>RemoteTest migrate [--from DIR_OR_FILE]</c>: copies the embedded SQLite task store (tasks, schedules)
/// and its Data Protection keys into the PostgreSQL database named by <c>RemoteTest:Storage:ConnectionString</c>,
/// Rows already present are skipped, so an interrupted migration can simply be run again. Unfinished tasks are
/// copied as PENDING and need no message: the workers' reconciler publishes every PENDING task without one after
/// <c>Cluster:RequeuePendingAfter</c> (so migrate needs no broker, and works before any worker declared its queue). The embedded service must be stopped: its lock is taken.
/// </summary>
public static class MigrateCommand
{
    private const int Page = 500;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args, new Dictionary<string, string> { ["--from"] = "Migrate:From" })
            .Build();
        var options = new RemoteTestOptions();
        configuration.GetSection(RemoteTestOptions.Section).Bind(options);
        options.Storage.Kind = StorageKind.Postgres;
        if (string.IsNullOrWhiteSpace(options.Storage.ConnectionString))
        {
            await output.WriteLineAsync($"remotetest migrate: set {RemoteTestOptions.Section}:Storage:ConnectionString (or REMOTETEST__STORAGE__CONNECTIONSTRING) to the target PostgreSQL database");
            return 2;
        }

        var from = Path.GetFullPath(configuration["Migrate:From"] ?? options.DataDirectory);
        var (directory, file) = Directory.Exists(from) ? (from, Path.Combine(from, "tasks.db")) : (Path.GetDirectoryName(from)!, from);
        if (!File.Exists(file))
        {
            await output.WriteLineAsync($"remotetest migrate: no embedded task store at {file}");
            return 2;
        }

        using var dataLock = DataDirectoryLock.Acquire(directory);
        using var source = SqliteTaskStore.OpenFile(file);
        await using var dataSource = PostgresServices.CreateDataSource(options.Storage.ConnectionString);
        var target = new PostgresTaskStore(dataSource, options.Cluster.WorkerTimeout);
        await PostgresSchema.EnsureAsync(dataSource, null, cancellationToken);

        // Keys first: pending tasks carry secrets encrypted with them.
        var keys = 0;
        var keyDirectory = Path.Combine(directory, "keys");
        if (Directory.Exists(keyDirectory))
        {
            var repository = new PostgresKeyRepository(dataSource);
            foreach (var path in Directory.EnumerateFiles(keyDirectory, "*.xml").Order(StringComparer.Ordinal))
            {
                repository.StoreElement(XElement.Load(path), Path.GetFileNameWithoutExtension(path));
                keys++;
            }
        }

        int seen = 0, copied = 0;
        var unfinished = new List<TaskRecord>();
        TaskCursor? cursor = null;
        do
        {
            var page = await source.ListAsync(new TaskQuery(After: cursor, Limit: Page), cancellationToken);
            // The embedded process is stopped: a task it had STARTED runs again from the start, as it would on restart.
            var rows = page.Tasks.Select(t => t.State == TaskState.Started ? t with { State = TaskState.Pending, Worker = null, Started = null } : t).ToList();
            var inserted = await target.InsertManyAsync(rows, cancellationToken);
            copied += inserted;
            seen += rows.Count;
            if (inserted > 0)
            {
                unfinished.AddRange(rows.Where(t => !t.State.IsReady()));
            }
            cursor = page.Next;
        }
        while (cursor is not null);

        var schedules = 0;
        foreach (var schedule in await source.ListSchedulesAsync(cancellationToken))
        {
            if (await target.SaveScheduleAsync(schedule, cancellationToken))
            {
                schedules++;
                if (schedule.LastFired is { } fired)
                {
                    await target.TryClaimScheduleFireAsync(schedule.Name, fired, cancellationToken);
                }
                if (schedule.LastOutcome is { } outcome)
                {
                    await target.SetScheduleOutcomeAsync(schedule.Name, outcome, cancellationToken);
                }
            }
        }

        // Baselines after the tasks they pin; a name the target already has keeps its own.
        var baselines = 0;
        foreach (var baseline in await source.ListBaselinesAsync(owner: null, cancellationToken))
        {
            if (await target.GetBaselineAsync(baseline.Owner, baseline.Name, cancellationToken) is null
                && await target.SaveBaselineAsync(baseline, cancellationToken))
            {
                baselines++;
            }
        }

        // Managed tokens keep their hash, scopes, expiry and revocation: a revoked token stays revoked.
        var tokens = 0;
        if (source is Security.IApiTokenStore sourceTokens && target is Security.IApiTokenStore targetTokens)
        {
            foreach (var token in await sourceTokens.ListTokensAsync(cancellationToken))
            {
                if (await targetTokens.AddTokenAsync(token with { Revoked = null }, cancellationToken))
                {
                    tokens++;
                    if (token.Revoked is { } revoked)
                    {
                        await targetTokens.RevokeTokenAsync(token.Name, revoked, cancellationToken);
                    }
                }
            }
        }

        await output.WriteLineAsync($"migrated {copied} of {seen} tasks ({seen - copied} already present), {schedules} new schedules, " +
                                    $"{baselines} new baselines, {tokens} new managed tokens, " +
                                    $"{keys} keys; {unfinished.Count} unfinished tasks left PENDING for the workers to pick up");
        return 0;
    }
}
