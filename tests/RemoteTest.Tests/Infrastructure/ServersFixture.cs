namespace RemoteTest.Tests.Infrastructure;

/// <summary>
/// One PostgreSQL server and one RabbitMQ broker shared by the tests of the <c>servers</c> collection (which run one
/// after another: they start several service processes each, and the machine has two cores). Started on
/// first use; a test that restarts a server starts its own instead.
/// </summary>
public sealed class ServersFixture : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private PostgresServer? _postgres;
    private RabbitMqServer? _rabbitMq;

    public async Task<PostgresServer> PostgresAsync()
    {
        Skip.If(TestServers.Skipped, TestServers.SkipReason);
        await _gate.WaitAsync();
        try
        {
            return _postgres ??= await PostgresServer.StartAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<RabbitMqServer> RabbitMqAsync()
    {
        Skip.If(TestServers.Skipped, TestServers.SkipReason);
        await _gate.WaitAsync();
        try
        {
            return _rabbitMq ??= await RabbitMqServer.StartAsync();
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        if (_rabbitMq is not null)
        {
            await _rabbitMq.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ServersCollection : ICollectionFixture<ServersFixture>
{
    public const string Name = "servers";
}
