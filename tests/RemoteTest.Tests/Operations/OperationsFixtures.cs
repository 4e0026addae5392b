using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RemoteTest.Tasks;

namespace RemoteTest.Tests.Operations;

/// <summary>
/// A test task that opens a TCP connection to a loopback port and waits on it until cancelled: the socket
/// end shows whether a revoke really reaches the task's open sockets. Plans two probes and finishes one.
/// </summary>
public sealed class HangingTcpTask : RemoteTask<HangingTcpTask.Args>
{
    public sealed record Args(int Port);

    public override string Name => "test.hang";
    public override string Description => "Connects to a loopback port and waits (tests only).";
    public override IReadOnlyList<TaskParameter> Parameters { get; } =
    [
        new("port", true, "loopback port", new JsonObject { ["type"] = "integer" }),
        new("api_token", false, "a secret, to check masking", new JsonObject { ["type"] = "string" }),
    ];

    public override Args ParseArguments(TaskArguments arguments) => new(ArgumentReader.Port(arguments["port"], "port"));

    public override async Task<object> RunAsync(Args arguments, TaskContext context, CancellationToken cancellationToken)
    {
        context.Plan(2);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, arguments.Port, cancellationToken);
        context.Complete();
        var buffer = new byte[16];
        while (await client.GetStream().ReadAsync(buffer, cancellationToken) > 0)
        {
        }
        return new JsonObject { ["closed_by_peer"] = true };
    }
}

/// <summary>A test task that returns the result it is given: lets tests feed result shapes (DESIGN.md) through the whole pipeline.</summary>
public sealed class EchoResultTask : RemoteTask<JsonObject>
{
    public override string Name => "test.echo";
    public override string Description => "Returns its 'result' argument (tests only).";
    public override IReadOnlyList<TaskParameter> Parameters { get; } = [new("result", true, "the result to return", new JsonObject { ["type"] = "object" })];

    public override JsonObject ParseArguments(TaskArguments arguments) => ArgumentReader.Object(arguments["result"], "result");

    public override Task<object> RunAsync(JsonObject arguments, TaskContext context, CancellationToken cancellationToken) =>
        Task.FromResult<object>(arguments.DeepClone());
}

/// <summary>The test tasks, added to a <see cref="Infrastructure.ServiceHost"/>.</summary>
public static class TestTasks
{
    public static void Add(IServiceCollection services)
    {
        services.AddSingleton<IRemoteTask, HangingTcpTask>();
        services.AddSingleton<IRemoteTask, EchoResultTask>();
    }
}

/// <summary>A loopback TCP listener that accepts and holds connections, and tells when a client closes one.</summary>
public sealed class HoldingListener : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<TaskCompletionSource> _closed = new();
    private readonly SemaphoreSlim _accepted = new(0);
    private readonly Task _loop;

    public HoldingListener()
    {
        _listener.Start();
        _loop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted => _closed.Count;

    /// <summary>Waits for the next accepted connection; returns a task that completes when the client closes it.</summary>
    public async Task<Task> NextConnectionAsync(TimeSpan timeout)
    {
        Assert.True(await _accepted.WaitAsync(timeout), "no connection arrived in time");
        return _closed.ToArray()[Interlocked.Increment(ref _taken) - 1].Task;
    }

    private int _taken;

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _closed.Enqueue(closed);
                _accepted.Release();
                _ = WatchAsync(socket, closed);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task WatchAsync(Socket socket, TaskCompletionSource closed)
    {
        using (socket)
        {
            var buffer = new byte[16];
            try
            {
                while (await socket.ReceiveAsync(buffer, _stop.Token) > 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
            }
            closed.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _loop;
    }
}

/// <summary>One request the webhook receiver got.</summary>
public sealed record ReceivedWebhook(IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();
}

/// <summary>A webhook receiver on loopback (Kestrel): records requests and answers with programmed status codes.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _statuses = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private WebhookReceiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();
    public string Url { get; private set; } = "";

    /// <summary>Status codes for the next requests, in order; 200 once they run out.</summary>
    public void Answer(params int[] statuses)
    {
        foreach (var s in statuses)
        {
            _statuses.Enqueue(s);
        }
    }

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            receiver.Received.Enqueue(new ReceivedWebhook(
                http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), buffer.ToArray()));
            receiver._arrived.Release();
            return Results.StatusCode(receiver._statuses.TryDequeue(out var s) ? s : 200);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        receiver.Url = address + "/hook";
        return receiver;
    }

    /// <summary>Waits until <paramref name="count"/> requests in total have arrived.</summary>
    public async Task WaitForAsync(int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Received.Count < count)
        {
            var left = deadline - DateTime.UtcNow;
            Assert.True(left > TimeSpan.Zero && await _arrived.WaitAsync(left), $"expected {count} webhook requests, got {Received.Count}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
