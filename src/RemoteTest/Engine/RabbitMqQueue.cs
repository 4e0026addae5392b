using System.Collections.Concurrent;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace RemoteTest.Engine;

/// <summary>
/// The process's one connection to RabbitMQ. The client recovers it by itself (connection, channels,
/// consumers, server-named queues) a few seconds after the broker comes back; only the first connect is ours
/// to retry, for a node that starts before the broker.
/// </summary>
public sealed class RabbitMqConnection(IOptions<QueueOptions> queueOptions, WorkerIdentity identity, ServiceRoles roles, ILogger<RabbitMqConnection> log) : IAsyncDisposable
{
    /// <summary>Wait between first-connect attempts and between the client's own recovery attempts.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);

    private readonly SemaphoreSlim _connect = new(1, 1);
    private IConnection? _connection;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } ready)
        {
            return ready;
        }
        await _connect.WaitAsync(cancellationToken);
        try
        {
            var factory = new ConnectionFactory
            {
                Uri = new Uri(queueOptions.Value.RabbitMq!),
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = RetryInterval,
                RequestedHeartbeat = TimeSpan.FromSeconds(30),
                ClientProvidedName = $"remotetest {string.Join(",", roles.Names)} {identity.Name}",
            };
            var reported = false;
            while (_connection is null)
            {
                try
                {
                    _connection = await factory.CreateConnectionAsync(cancellationToken);
                    if (reported)
                    {
                        log.LogInformation("RabbitMQ reachable");
                    }
                }
                catch (BrokerUnreachableException ex)
                {
                    if (!reported)
                    {
                        // The URI may hold a password: only the host is named.
                        log.LogWarning("RabbitMQ at {Host} not reachable yet ({Error}); retrying", factory.HostName, ex.InnerException?.Message ?? ex.Message);
                        reported = true;
                    }
                    await Task.Delay(RetryInterval, cancellationToken);
                }
            }
            return _connection;
        }
        finally
        {
            _connect.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } c)
        {
            try
            {
                await c.CloseAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or TimeoutException or OperationCanceledException)
            {
            }
            c.Dispose();
        }
        _connect.Dispose();
    }
}

/// <summary>
/// The scaled-out queue: one durable quorum queue per vantage point on RabbitMQ, declared by the workers that
/// serve it. A message is the task id (its body) and the trace parent (a header); it is published with
/// <c>mandatory</c> and a publisher confirm, so a stored task's message is on the broker's disks before submit
/// answers 202, and a queue no worker ever declared is refused. Revocations go out on a fanout exchange.
/// </summary>
public sealed class RabbitMqQueue : ITaskQueue, IAsyncDisposable
{
    public const string TraceParentHeader = "traceparent";

    private readonly RabbitMqConnection _connection;
    private readonly QueueOptions _options;
    private readonly RunningTasks _running;
    private readonly ILogger<RabbitMqQueue> _log;
    private readonly Channel<IChannel?> _publishers;
    private readonly SemaphoreSlim _inspect = new(1, 1);
    private IChannel? _inspector;
    private volatile bool _exchangeDeclared;

    public RabbitMqQueue(RabbitMqConnection connection, IOptions<QueueOptions> queueOptions, RunningTasks running, ILogger<RabbitMqQueue> log)
    {
        _connection = connection;
        _options = queueOptions.Value;
        _running = running;
        _log = log;
        // A pool of publisher channels, each lent to one publish at a time; empty slots are opened on first use.
        _publishers = Channel.CreateBounded<IChannel?>(_options.PublisherChannels);
        for (var i = 0; i < _options.PublisherChannels; i++)
        {
            _publishers.Writer.TryWrite(null);
        }
    }

    /// <summary>Registers the queue; the worker (<see cref="RabbitMqWorker"/>) is added by the caller for worker nodes.</summary>
    public static void Add(IServiceCollection services, ServiceRoles roles)
    {
        services.AddSingleton<RabbitMqConnection>();
        services.AddSingleton<RabbitMqQueue>();
        services.AddSingleton<ITaskQueue>(sp => sp.GetRequiredService<RabbitMqQueue>());
    }

    /// <summary>The broker's name of a RemoteTest queue.</summary>
    public string QueueName(string queue) => _options.Prefix + queue;

    /// <summary>The fanout exchange revocations are broadcast on.</summary>
    public string RevokedExchange => _options.Prefix + "revoked";

    /// <summary>Set by <see cref="RabbitMqWorker"/>: why this worker takes no tasks now; null while it does.</summary>
    internal volatile string? NotConsuming = "the RabbitMQ consumer has not started";

    public (bool Consuming, string Description) WorkerState =>
        NotConsuming is { } why ? (false, why) : (true, "consuming from RabbitMQ");

    public Task EnqueueAsync(Guid taskId, string queue, CancellationToken cancellationToken)
    {
        var message = QueueMessage.For(taskId, queue);
        var properties = new BasicProperties
        {
            Persistent = true,
            MessageId = taskId.ToString(),
            ContentType = "text/plain",
            Headers = message.TraceParent is { } parent ? new Dictionary<string, object?> { [TraceParentHeader] = parent } : null,
        };
        return PublishAsync("", QueueName(queue), mandatory: true, properties, taskId, cancellationToken,
            onTimeout: () => _log.LogWarning("Task {TaskId}: RabbitMQ unreachable for {Timeout}; it stays PENDING and the reconciler publishes it", taskId, _options.PublishTimeout),
            onReturn: () => throw new QueueNotDeclaredException(queue));
    }

    public async Task BroadcastRevokedAsync(Guid taskId, CancellationToken cancellationToken)
    {
        // This node may run it too (an api,worker node).
        _running.Cancel(taskId);
        await DeclareRevokedExchangeAsync(cancellationToken);
        await PublishAsync(RevokedExchange, "", mandatory: false, new BasicProperties { MessageId = taskId.ToString() }, taskId, cancellationToken,
            onTimeout: () => _log.LogWarning("Revocation of task {TaskId} not broadcast (RabbitMQ unreachable); workers see it in the store", taskId),
            onReturn: () => { });
    }

    /// <summary>
    /// One publish with its confirm, retried while the broker restarts (the client throws
    /// <see cref="AlreadyClosedException"/> until it has recovered the connection) for at most
    /// <see cref="QueueOptions.PublishTimeout"/>; then <paramref name="onTimeout"/> and return: the store holds the task.
    /// </summary>
    private async Task PublishAsync(string exchange, string routingKey, bool mandatory, BasicProperties properties, Guid taskId,
        CancellationToken cancellationToken, Action onTimeout, Action onReturn)
    {
        var body = Encoding.ASCII.GetBytes(taskId.ToString());
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.PublishTimeout);
        for (var attempt = 1; ; attempt++)
        {
            IChannel? channel = null;
            try
            {
                channel = await RentAsync(deadline.Token);
                await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, deadline.Token);
                _publishers.Writer.TryWrite(channel);
                return;
            }
            catch (PublishReturnException)
            {
                _publishers.Writer.TryWrite(channel);
                onReturn();
                return;
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                _publishers.Writer.TryWrite(channel is { IsOpen: true } ? channel : Discard(channel));
                onTimeout();
                return;
            }
            catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or PublishException or BrokerUnreachableException or IOException
                                       && !cancellationToken.IsCancellationRequested)
            {
                _publishers.Writer.TryWrite(channel is { IsOpen: true } ? channel : Discard(channel));
                if (attempt == 1)
                {
                    _log.LogWarning("Publish to RabbitMQ failed ({Error}); retrying", ex.Message);
                }
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 50 * attempt)), deadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    onTimeout();
                    return;
                }
            }
        }
    }

    private static IChannel? Discard(IChannel? channel)
    {
        channel?.Dispose();
        return null;
    }

    private async Task<IChannel> RentAsync(CancellationToken cancellationToken)
    {
        var channel = await _publishers.Reader.ReadAsync(cancellationToken);
        if (channel is { IsOpen: true })
        {
            return channel;
        }
        channel?.Dispose();
        try
        {
            var connection = await _connection.GetAsync(cancellationToken);
            return await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken);
        }
        catch
        {
            _publishers.Writer.TryWrite(null);   // give the slot back
            throw;
        }
    }

    /// <summary>Queues seen declared: durable, so once seen they stay (a deleted one is still caught by the mandatory publish).</summary>
    private readonly ConcurrentDictionary<string, bool> _declared = new(StringComparer.Ordinal);

    /// <summary>A passive declare: the broker answers 404 (and closes the channel) for a queue nobody declared.</summary>
    public async Task<bool> ExistsAsync(string queue, CancellationToken cancellationToken)
    {
        if (_declared.ContainsKey(queue))
        {
            return true;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(DepthTimeout);
        try
        {
            await _inspect.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return true;
        }
        try
        {
            var channel = await InspectorAsync(deadline.Token);
            await channel.QueueDeclarePassiveAsync(QueueName(queue), deadline.Token);
            _declared[queue] = true;
            return true;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return false;
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException or IOException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Unknown now: the publish that follows waits for the broker, or the reconciler publishes later.
            return true;
        }
        finally
        {
            _inspect.Release();
        }
    }

    /// <summary>How long a depth query may take before the answer is "unknown" (0): a submit must not wait on a broker restart here.</summary>
    private static readonly TimeSpan DepthTimeout = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Messages ready in the queue (not those a worker holds unacknowledged); 0 for a queue not declared, and 0
    /// while the broker cannot be asked (the publish that follows waits for it, or leaves the task to the reconciler).
    /// </summary>
    public async Task<long> DepthAsync(string queue, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(DepthTimeout);
        try
        {
            await _inspect.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
        try
        {
            var channel = await InspectorAsync(deadline.Token);
            return await channel.MessageCountAsync(QueueName(queue), deadline.Token);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            return 0;   // nobody declared it (the channel is closed by the broker; the next call opens another)
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException or IOException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _log.LogDebug("Queue depth of {Queue} unknown: {Error}", queue, ex.Message);
            return 0;
        }
        finally
        {
            _inspect.Release();
        }
    }

    private async Task<IChannel> InspectorAsync(CancellationToken cancellationToken)
    {
        if (_inspector is { IsOpen: true } open)
        {
            return open;
        }
        _inspector?.Dispose();
        var connection = await _connection.GetAsync(cancellationToken);
        return _inspector = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
    }

    /// <summary>Declares the revocation exchange once per process (idempotent on the broker, durable: it survives restarts).</summary>
    internal async Task DeclareRevokedExchangeAsync(CancellationToken cancellationToken)
    {
        if (_exchangeDeclared)
        {
            return;
        }
        await _inspect.WaitAsync(cancellationToken);
        try
        {
            var channel = await InspectorAsync(cancellationToken);
            await channel.ExchangeDeclareAsync(RevokedExchange, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            _exchangeDeclared = true;
        }
        finally
        {
            _inspect.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _publishers.Writer.TryComplete();
        while (_publishers.Reader.TryRead(out var channel))
        {
            await CloseAsync(channel);
        }
        await CloseAsync(_inspector);
        _inspect.Dispose();
    }

    internal static async Task CloseAsync(IChannel? channel)
    {
        if (channel is null)
        {
            return;
        }
        try
        {
            if (channel.IsOpen)
            {
                await channel.CloseAsync();
            }
        }
        catch (Exception ex) when (ex is AlreadyClosedException or OperationInterruptedException or IOException or TimeoutException or OperationCanceledException)
        {
        }
        channel.Dispose();
    }
}
