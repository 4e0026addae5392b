using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace RemoteTest.Engine;

/// <summary>
/// The embedded queue: one in-memory channel per queue name. Nothing here survives the process, and nothing
/// needs to: every PENDING or STARTED task is in the store and is enqueued again at start (<see cref="EngineStartup"/>).
/// A queue this process does not serve simply holds its messages (they wait, as PENDING tasks, for a
/// configuration that serves it).
/// </summary>
public sealed class InProcessQueue(RunningTasks running) : ITaskQueue
{
    private readonly ConcurrentDictionary<string, Channel<QueueMessage>> _channels = new(StringComparer.Ordinal);

    /// <summary>Set by <see cref="InProcessWorker"/> while it takes tasks.</summary>
    internal volatile bool Consuming;

    internal ChannelReader<QueueMessage> Reader(string queue) => For(queue).Reader;

    // Not SingleReader: only the multi-reader unbounded channel can count its items (DepthAsync).
    private Channel<QueueMessage> For(string queue) =>
        _channels.GetOrAdd(queue, _ => Channel.CreateUnbounded<QueueMessage>());

    public Task EnqueueAsync(Guid taskId, string queue, CancellationToken cancellationToken)
    {
        For(queue).Writer.TryWrite(QueueMessage.For(taskId, queue));
        return Task.CompletedTask;
    }

    /// <summary>Always: an in-process channel holds its messages until a configuration serves the queue.</summary>
    public Task<bool> ExistsAsync(string queue, CancellationToken cancellationToken) => Task.FromResult(true);

    public Task<long> DepthAsync(string queue, CancellationToken cancellationToken) =>
        Task.FromResult(_channels.TryGetValue(queue, out var channel) ? (long)channel.Reader.Count : 0);

    /// <summary>One process: the revoke already cancelled the task here if it runs here.</summary>
    public Task BroadcastRevokedAsync(Guid taskId, CancellationToken cancellationToken)
    {
        running.Cancel(taskId);
        return Task.CompletedTask;
    }

    public (bool Consuming, string Description) WorkerState =>
        Consuming ? (true, "taking tasks from the in-process queue") : (false, "the in-process worker has not started or is stopping");
}

/// <summary>
/// Runs the embedded queue's tasks: up to <see cref="WorkerOptions.Concurrency"/> at once, each an async call
/// (no thread is held while a task waits on the network). At SIGTERM it stops taking tasks, lets running ones
/// finish within <see cref="WorkerOptions.ShutdownGrace"/>, then cancels them: they are handed back (PENDING)
/// and run again at the next start.
/// </summary>
public sealed class InProcessWorker(
    InProcessQueue queue,
    TaskRunner runner,
    ServiceRoles roles,
    IOptions<WorkerOptions> workerOptions,
    ILogger<InProcessWorker> log) : BackgroundService
{
    private readonly CancellationTokenSource _interrupt = new();
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();
    private SemaphoreSlim? _slots;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _slots = new SemaphoreSlim(workerOptions.Value.Concurrency);
        queue.Consuming = true;
        try
        {
            await Task.WhenAll(roles.Queues.Distinct().Select(q => ReadAsync(queue.Reader(q), _slots, stoppingToken)));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            queue.Consuming = false;
        }
    }

    /// <summary>One reader per served queue; the slots are shared, so the concurrency is per process.</summary>
    private async Task ReadAsync(ChannelReader<QueueMessage> reader, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        while (await reader.WaitToReadAsync(stoppingToken))
        {
            await slots.WaitAsync(stoppingToken);
            if (!reader.TryRead(out var message))
            {
                slots.Release();
                continue;
            }
            var id = Guid.NewGuid();
            // Task.Run: the loop goes on at once, whatever the task does before its first await.
            _inFlight[id] = Task.Run(async () =>
            {
                try
                {
                    await runner.RunAsync(message, redelivered: false, _interrupt.Token);
                }
                catch (OperationCanceledException) when (_interrupt.IsCancellationRequested)
                {
                    // Handed back PENDING by the runner; the next start enqueues it again.
                }
                catch (Exception ex)
                {
                    // The store is unreachable (SQLite file gone, disk full): the task stays as it is in the store.
                    log.LogError(ex, "Task {TaskId} could not be run", message.TaskId);
                }
                finally
                {
                    slots.Release();
                    _inFlight.TryRemove(id, out _);
                }
            }, CancellationToken.None);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);   // no new task starts from here
        await ShutdownGrace.DrainAsync(() => _inFlight.Values.ToArray(), workerOptions.Value.ShutdownGrace, _interrupt, log, cancellationToken);
    }

    public override void Dispose()
    {
        _interrupt.Dispose();
        _slots?.Dispose();
        base.Dispose();
    }
}
