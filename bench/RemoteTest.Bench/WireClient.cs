using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RemoteTest.Bench;

/// <summary>
/// One client of the wire contract over one keep-alive HTTP/1.1 connection, as a script using the original
/// would be: <c>POST /task</c> → <c>{"task_id"}</c>, then <c>GET /task/{id}</c> until ready.
/// </summary>
public sealed class WireClient : IDisposable
{
    public static readonly string[] Terminal = ["SUCCESS", "FAILURE", "REVOKED"];

    private readonly HttpClient _http;

    public WireClient(Uri baseAddress, string? token = null)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            UseProxy = false,
            AllowAutoRedirect = false,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        };
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (token is not null)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>HTTP requests sent so far (POSTs and polls).</summary>
    public int Requests { get; private set; }

    /// <summary>The request body of a task, built once per workload so the client spends little per request.</summary>
    public static byte[] Body(string taskName, JsonNode args, JsonObject kwargs) =>
        Encoding.UTF8.GetBytes(new JsonObject
        {
            ["task_name"] = taskName,
            ["data"] = new JsonObject { ["args"] = args.DeepClone(), ["kwargs"] = kwargs.DeepClone() },
        }.ToJsonString());

    /// <summary>Submits; returns the task id. Any answer but 200/201/202 with a task id is an error.</summary>
    public async Task<string> SubmitAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync("/task", content, cancellationToken);
        Requests++;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.Accepted)
            || JsonNode.Parse(text)?["task_id"]?.GetValue<string>() is not { Length: > 0 } id)
        {
            throw new BenchException($"submit: HTTP {(int)response.StatusCode} {Shorten(text)}");
        }
        return id;
    }

    public async Task<(int Status, JsonObject Body)> StatusAsync(string taskId, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync("/task/" + Uri.EscapeDataString(taskId), cancellationToken);
        Requests++;
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var body = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
        return ((int)response.StatusCode, body ?? []);
    }

    /// <summary>Polls every <paramref name="interval"/> until a terminal state or <paramref name="deadline"/>.</summary>
    /// <returns>The state (or "TIMEOUT"), the last body, the timestamp the terminal answer arrived, and the polls made.</returns>
    public async Task<PollOutcome> WaitAsync(string taskId, TimeSpan interval, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        var maxPolls = (int)(deadline / TimeSpan.FromTicks(Math.Max(interval.Ticks, TimeSpan.TicksPerMillisecond))) + 10;
        JsonObject body = [];
        for (var polls = 1; polls <= maxPolls; polls++)
        {
            (var status, body) = await StatusAsync(taskId, cancellationToken);
            var now = Stopwatch.GetTimestamp();
            if (status == 200 && body["state"]?.GetValue<string>() is { } state && Terminal.Contains(state))
            {
                return new PollOutcome(state, body, now, polls);
            }
            if (Stopwatch.GetElapsedTime(start, now) >= deadline)
            {
                return new PollOutcome("TIMEOUT", body, now, polls);
            }
            await Task.Delay(interval, cancellationToken);
        }
        return new PollOutcome("TIMEOUT", body, Stopwatch.GetTimestamp(), maxPolls);
    }

    /// <summary>Reads a JSON document from the server (discovery routes).</summary>
    public async Task<JsonNode?> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        Requests++;
        return response.IsSuccessStatusCode ? JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) : null;
    }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200];

    public void Dispose() => _http.Dispose();
}

/// <summary>How a wait for a task ended.</summary>
public sealed record PollOutcome(string State, JsonObject Body, long SeenTimestamp, int Polls);

/// <summary>A failure of the harness or of the system under test that stops one workload.</summary>
public sealed class BenchException(string message) : Exception(message);
