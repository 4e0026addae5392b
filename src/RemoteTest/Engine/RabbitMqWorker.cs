using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace RemoteTest.Engine;

/// <summary>
/// A worker node's consumer: declares its queues (durable, quorum), takes up to <see cref="WorkerOptions.Concurrency"/>
/// messages at once (prefetch), runs each task and acknowledges its message only after the result is stored
/// (Celery's <c>acks_late</c>): a worker killed mid-task loses its connection and the broker hands its messages to
/// another worker at once, which takes the task over in the store. It also listens on the revocation exchange and
/// cancels a revoked task that runs here. At SIGTERM it stops consuming, lets running tasks finish within the grace,
/// then hands the rest back (PENDING in the store, the message requeued).
/// </summary>
public sealed class RabbitMqWorker(
    RabbitMqConnection connection,
    RabbitMqQueue queue,
    TaskRunner runner,
    RunningTasks running,
    ServiceRoles roles,
    IOptions<QueueOptions> queueOptions, IOptions<WorkerOptions> workerOptions,
    ILogger<RabbitMqWorker> log) : BackgroundService
{
    /// <summary>How often the consumer checks that its channel is still open (a look at a flag, no network).</summary>
    private static readonly TimeSpan ChannelCheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>Wait before a message whose task could not even be claimed (the store is down) goes back to the queue.</summary>
    private static readonly TimeSpan StoreRetryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _interrupt = new();
    private readonly ConcurrentDictionary<ulong, Task> _inFlight = new();
    private IChannel? _tasks;
    private IChannel? _revocations;
    private readonly List<string> _consumerTags = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                // The client recovers channels and consumers after a lost connection. A channel the broker closed
                // while the connection stayed up (consumer_timeout, a protocol error) is not recovered: rebuild it.
                var conn = await connection.GetAsync(stoppingToken);
                if (_tasks is not { IsOpen: true } && conn.IsOpen)
                {
                    await StartConsumingAsync(conn, stoppingToken);
                }
                queue.NotConsuming = _tasks is { IsOpen: true } && conn.IsOpen ? null : "not connected to RabbitMQ (reconnecting)";
                await Task.Delay(ChannelCheckInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task StartConsumingAsync(IConnection conn, CancellationToken cancellationToken)
    {
        try
        {
            if (_tasks is not null)
            {
                log.LogWarning("RabbitMQ closed the consumer channel ({Reason}); opening a new one", _tasks.CloseReason?.ReplyText ?? "unknown");
                await RabbitMqQueue.CloseAsync(_tasks);
                _tasks = null;
            }
            var concurrency = (ushort)workerOptions.Value.Concurrency;
            var channel = await conn.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: concurrency), cancellationToken);
            await channel.BasicQosAsync(0, concurrency, global: false, cancellationToken);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += OnTaskAsync;
            _consumerTags.Clear();
            foreach (var name in roles.Queues.Distinct())
            {
                await channel.QueueDeclareAsync(queue.QueueName(name), durable: true, exclusive: false, autoDelete: false,
                    arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
                _consumerTags.Add(await channel.BasicConsumeAsync(queue.QueueName(name), autoAck: false, consumer, cancellationToken));
            }
            _tasks = channel;

            if (_revocations is not { IsOpen: true })
            {
                await RabbitMqQueue.CloseAsync(_revocations);
                await queue.DeclareRevokedExchangeAsync(cancellationToken);
                var revocations = await conn.CreateChannelAsync(cancellationToken: cancellationToken);
                // A queue of this process's own (server-named, deleted with the connection) bound to the fanout exchange.
                var own = await revocations.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: cancellationToken);
                await revocations.QueueBindAsync(own.QueueName, queue.RevokedExchange, "", cancellationToken: cancellationToken);
                var listener = new AsyncEventingBasicConsumer(revocations);
                listener.ReceivedAsync += OnRevokedAsync;
                await revocations.BasicConsumeAsync(own.QueueName, autoAck: true, listener, cancellationToken);
                _revocations = revocations;
            }
            log.LogInformation("Consuming queues {Queues} from RabbitMQ, {Concurrency} at a time", string.Join(", ", roles.Queues), concurrency);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or BrokerUnreachableException)
        {
            log.LogWarning("Could not start consuming from RabbitMQ ({Error}); retrying", ex.Message);
        }
    }

    private Task OnRevokedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        if (Guid.TryParse(Encoding.ASCII.GetString(delivery.Body.Span), out var id) && running.Cancel(id))
        {
            log.LogInformation("Task {TaskId} revoked elsewhere; cancelled here", id);
        }
        return Task.CompletedTask;
    }

    /// <summary>One message: run its task, then acknowledge; runs concurrently up to the prefetch.</summary>
    private async Task OnTaskAsync(object sender, BasicDeliverEventArgs delivery)
    {
        var channel = ((AsyncEventingBasicConsumer)sender).Channel;
        var done = new TaskCompletionSource();
        var key = delivery.DeliveryTag ^ ((ulong)channel.ChannelNumber << 48);
        _inFlight[key] = done.Task;
        try
        {
            if (!Guid.TryParse(Encoding.ASCII.GetString(delivery.Body.Span), out var id))
            {
                log.LogWarning("Dropped a message that carries no task id on {Queue}", delivery.RoutingKey);
                await AckAsync(channel, delivery.DeliveryTag);
                return;
            }
            var traceParent = delivery.BasicProperties.Headers?.TryGetValue(RabbitMqQueue.TraceParentHeader, out var header) == true
                ? header switch { byte[] b => Encoding.UTF8.GetString(b), string s => s, _ => null }
                : null;
            var name = delivery.RoutingKey.StartsWith(queueOptions.Value.Prefix, StringComparison.Ordinal)
                ? delivery.RoutingKey[queueOptions.Value.Prefix.Length..]
                : delivery.RoutingKey;
            try
            {
                await runner.RunAsync(new QueueMessage(id, name, traceParent), delivery.Redelivered, _interrupt.Token);
                await AckAsync(channel, delivery.DeliveryTag);
            }
            catch (OperationCanceledException) when (_interrupt.IsCancellationRequested)
            {
                // Handed back PENDING by the runner: the message goes back to the queue for another worker.
                await NackAsync(channel, delivery.DeliveryTag);
            }
            catch (Exception ex)
            {
                // The store could not be reached to claim or finish the task: the message goes back, a little later.
                log.LogWarning("Task {TaskId}: {Error}; message returned to queue {Queue}", id, ex.Message, name);
                await Task.Delay(StoreRetryDelay, CancellationToken.None);
                await NackAsync(channel, delivery.DeliveryTag);
            }
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
            done.SetResult();
        }
    }

    private async Task AckAsync(IChannel channel, ulong tag)
    {
        try
        {
            await channel.BasicAckAsync(tag, multiple: false);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            // The channel went away: the broker redelivers the message, and the task, already ended, is dropped then.
            log.LogDebug("Ack lost ({Error}); a redelivery will find the task ended", ex.Message);
        }
    }

    private async Task NackAsync(IChannel channel, ulong tag)
    {
        try
        {
            await channel.BasicNackAsync(tag, multiple: false, requeue: true);
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException)
        {
            // The channel went away: the broker requeues every unacknowledged message anyway.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.NotConsuming = "stopping";
        // No new messages from here; the ones held unacknowledged go back when the channel closes.
        if (_tasks is { IsOpen: true } channel)
        {
            foreach (var tag in _consumerTags)
            {
                try
                {
                    await channel.BasicCancelAsync(tag, cancellationToken: cancellationToken);
                }
                catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or OperationCanceledException)
                {
                }
            }
        }
        await base.StopAsync(cancellationToken);
        await ShutdownGrace.DrainAsync(() => _inFlight.Values.ToArray(), workerOptions.Value.ShutdownGrace, _interrupt, log, cancellationToken);
        await RabbitMqQueue.CloseAsync(_tasks);
        await RabbitMqQueue.CloseAsync(_revocations);
    }

    public override void Dispose()
    {
        _interrupt.Dispose();
        base.Dispose();
    }
}
