using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Tests.Infrastructure;

/// <summary>
/// API and worker nodes as separate OS processes on one PostgreSQL database and one RabbitMQ broker (queues
/// named with a prefix of this cluster's own), with timings shortened so that crash recovery happens within
/// seconds. Every process is killed at dispose.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly Dictionary<string, string> _settings;
    private readonly List<ServiceProcess> _nodes = [];

    private TestCluster(Dictionary<string, string> settings) => _settings = settings;

    /// <summary>The worker timeout of test clusters: a SIGKILLed worker's task is re-queued this soon.</summary>
    public static readonly TimeSpan WorkerTimeout = TimeSpan.FromSeconds(3);

    public static TestCluster Create(string postgres, string rabbitMq, string nameServer) => new(new Dictionary<string, string>
    {
        ["RemoteTest:Storage:Kind"] = "postgres",
        ["RemoteTest:Storage:ConnectionString"] = postgres,
        ["RemoteTest:Queue:RabbitMq"] = rabbitMq,
        // One broker serves every test: a prefix of its own keeps each cluster's queues apart.
        ["RemoteTest:Queue:Prefix"] = $"rt-{Guid.NewGuid():N}.",
        ["RemoteTest:Cluster:HeartbeatInterval"] = "00:00:00.500",
        ["RemoteTest:Cluster:WorkerTimeout"] = WorkerTimeout.ToString(),
        ["RemoteTest:Worker:ShutdownGrace"] = "00:00:05",
        ["RemoteTest:Worker:Concurrency"] = "4",
        ["RemoteTest:Dns:DefaultNameservers:0"] = nameServer,
        // Workers of a shared backend may not reach loopback by default; the test servers live there.
        ["RemoteTest:Targets:Allow:0"] = "127.0.0.0/8",
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
        // Tests count STARTED events, which are Debug.
        ["Logging:LogLevel:RemoteTest.TaskEvents"] = "Debug",
    });

    /// <summary>A cluster on a fresh database of the shared PostgreSQL server and the shared broker.</summary>
    public static async Task<TestCluster> CreateAsync(ServersFixture servers, string nameServer)
    {
        var pg = await (await servers.PostgresAsync()).CreateDatabaseAsync();
        return Create(pg, (await servers.RabbitMqAsync()).ConnectionString, nameServer);
    }

    public IReadOnlyList<ServiceProcess> Nodes => _nodes;

    /// <summary>The settings every node gets, for tests that reach the backend themselves.</summary>
    public IReadOnlyDictionary<string, string> Settings => _settings;

    public string ConnectionString => _settings["RemoteTest:Storage:ConnectionString"];

    public string RabbitMq => _settings["RemoteTest:Queue:RabbitMq"];

    /// <summary>The broker's name of one of this cluster's queues.</summary>
    public string BrokerQueue(string queue) => _settings["RemoteTest:Queue:Prefix"] + queue;

    public Task<ServiceProcess> StartApiAsync(IDictionary<string, string>? extra = null) =>
        StartAsync(new Dictionary<string, string>(extra ?? new Dictionary<string, string>()) { ["RemoteTest:Roles"] = "api" }, anyAnswer: false);

    public Task<ServiceProcess> StartWorkerAsync(string name, string location, string[] queues, IDictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>(extra ?? new Dictionary<string, string>())
        {
            ["RemoteTest:Roles"] = "worker",
            ["RemoteTest:Worker:Name"] = name,
            ["RemoteTest:Worker:Location"] = location,
        };
        for (var i = 0; i < queues.Length; i++)
        {
            settings[$"RemoteTest:Worker:Queues:{i}"] = queues[i];
        }
        return StartAsync(settings, anyAnswer: true);
    }

    private async Task<ServiceProcess> StartAsync(Dictionary<string, string> settings, bool anyAnswer)
    {
        var all = new Dictionary<string, string>(_settings);
        foreach (var (k, v) in settings)
        {
            all[k] = v;
        }
        var node = await ServiceProcess.StartAsync(all, startTimeout: TimeSpan.FromSeconds(120), anyAnswer: anyAnswer);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Waits until <c>GET /workers</c> lists exactly these workers (by name).</summary>
    public static async Task<JsonObject> WaitForWorkersAsync(HttpClient api, params string[] names)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        JsonObject answer;
        do
        {
            answer = (await api.GetFromJsonAsync<JsonObject>("/workers"))!;
            var listed = answer["workers"]!.AsArray().Select(w => w!["name"]!.GetValue<string>()).Order().ToArray();
            if (listed.SequenceEqual(names.Order()))
            {
                return answer;
            }
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);
        Assert.Fail($"workers {string.Join(", ", names)} not listed; /workers: {answer.ToJsonString()}");
        return answer;
    }

    /// <summary>Polls a task until it is in <paramref name="state"/> (or ready), bounded by <paramref name="timeout"/>.</summary>
    public static async Task<JsonObject> WaitForStateAsync(HttpClient api, string id, string state, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject status;
        do
        {
            status = (await api.GetFromJsonAsync<JsonObject>($"/task/{id}"))!;
            if (status["state"]!.GetValue<string>() == state || status["ready"]!.GetValue<bool>())
            {
                break;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        Assert.True(status["state"]!.GetValue<string>() == state, $"task {id} expected {state}: {status.ToJsonString()}");
        return status;
    }

    /// <summary>Everything every node printed, for assertion messages.</summary>
    public string Output => string.Join("\n", _nodes.Select((n, i) => $"--- node {i} (pid {n.Pid}) ---\n{n.Output}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
