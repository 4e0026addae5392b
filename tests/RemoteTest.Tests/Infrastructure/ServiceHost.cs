using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RemoteTest.Tests.Infrastructure;

/// <summary>The real service, built by <c>Program.Build</c>, listening on a free loopback port in this process.</summary>
public sealed class ServiceHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ServiceHost(WebApplication app, Uri baseAddress, LogCapture logs)
    {
        _app = app;
        BaseAddress = baseAddress;
        Logs = logs;
        Http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Uri BaseAddress { get; }
    public HttpClient Http { get; }
    public LogCapture Logs { get; }
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a service on memory storage unless <paramref name="settings"/> say otherwise (keys under <c>RemoteTest:</c>).</summary>
    /// <summary>
    /// A service for hostile-input tests: should a request ever be accepted, its task reaches nothing beyond this
    /// machine (every address denied, names asked only of <paramref name="nameServer"/>); bodies up to 256 KiB.
    /// </summary>
    public static Task<ServiceHost> StartSealedAsync(string nameServer) => StartAsync(new Dictionary<string, string?>
    {
        ["RemoteTest:Dns:DefaultNameservers:0"] = nameServer,
        ["RemoteTest:Targets:Deny:0"] = "0.0.0.0/0",
        ["RemoteTest:Targets:Deny:1"] = "::/0",
        ["RemoteTest:Limits:MaxRequestBytes"] = "262144",
    });

    public static async Task<ServiceHost> StartAsync(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        var logs = new LogCapture();
        var config = new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "memory",
            // Tests poll fast; the rate limiter has its own tests (Security/LimitsTests), which turn it on.
            ["RemoteTest:Limits:RateLimit:PermitLimit"] = "0",
            // Tests read every task event; PENDING and STARTED are Debug (appsettings.json's Information would hide them).
            ["Logging:LogLevel:RemoteTest.TaskEvents"] = "Debug",
        };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>())
        {
            config[k] = v;
        }
        var app = Program.Build(["--urls", "http://127.0.0.1:0"], b =>
        {
            b.Configuration.AddInMemoryCollection(config);
            b.Logging.ClearProviders();
            b.Logging.AddProvider(logs);
            b.Logging.SetMinimumLevel(LogLevel.Debug);
            services?.Invoke(b.Services);
        });
        await app.StartAsync();
        var address = new UriBuilder(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        if (address.Host is "0.0.0.0" or "[::]" or "::")
        {
            // Listening on every interface (tests of the exposed defaults); the tests still talk over loopback only.
            address.Host = "127.0.0.1";
        }
        return new ServiceHost(app, address.Uri, logs);
    }

    /// <summary>POSTs a payload to <c>/task</c>.</summary>
    public Task<HttpResponseMessage> PostTaskAsync(JsonNode payload) =>
        Http.PostAsync("/task", new StringContent(payload.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));

    /// <summary>Submits a task, expects 202, and returns its id.</summary>
    public async Task<string> SubmitAsync(JsonNode payload)
    {
        using var response = await PostTaskAsync(payload);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"expected 202, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!["task_id"]!.GetValue<string>();
    }

    /// <summary>Polls <c>GET /task/{id}</c> until ready or <paramref name="timeout"/>; returns the last answer.</summary>
    public Task<JsonObject> WaitAsync(string taskId, TimeSpan? timeout = null) => TaskPolling.WaitAsync(Http, taskId, timeout);

    /// <summary>Submits and waits; asserts SUCCESS and returns the result object.</summary>
    public async Task<JsonObject> RunAsync(JsonNode payload, TimeSpan? timeout = null)
    {
        var id = await SubmitAsync(payload);
        var status = await WaitAsync(id, timeout);
        Assert.True(status["state"]!.GetValue<string>() == "SUCCESS", $"task {id} ended {status.ToJsonString()}");
        return status["result"]!.AsObject();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Polling helpers shared by in-process and out-of-process tests.</summary>
public static class TaskPolling
{
    public static async Task<JsonObject> WaitAsync(HttpClient http, string taskId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = (await http.GetFromJsonAsync<JsonObject>($"/task/{taskId}"))!;
            if (status["ready"]!.GetValue<bool>() || DateTime.UtcNow > deadline)
            {
                return status;
            }
            await Task.Delay(20);
        }
    }
}

/// <summary>Every log line the service writes, for tests that check what is (not) logged.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyCollection<string> Lines => _lines;

    /// <summary>Every event with its structured properties, for tests of what a log event carries.</summary>
    public IReadOnlyCollection<LogEntry> Entries => _entries;

    public string All => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner._lines.Enqueue($"{logLevel} {category}: {message}{(exception is null ? "" : " " + exception)}");
            var properties = state is IReadOnlyList<KeyValuePair<string, object?>> list
                ? list.ToDictionary(p => p.Key, p => p.Value)
                : new Dictionary<string, object?>();
            owner._entries.Enqueue(new LogEntry(logLevel, category, eventId, message, properties));
        }
    }
}

/// <summary>One captured log event.</summary>
public sealed record LogEntry(LogLevel Level, string Category, EventId EventId, string Message, IReadOnlyDictionary<string, object?> Properties);
