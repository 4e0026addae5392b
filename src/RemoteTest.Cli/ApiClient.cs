using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace RemoteTest.Cli;

/// <summary>The RemoteTest public API as the CLI uses it; every failure a user can act on is a <see cref="CliException"/>.</summary>
public sealed class ApiClient : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient _http;

    public ApiClient(Uri server, string? token, HttpMessageHandler? handler)
    {
        Server = server;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = server;
        _http.Timeout = RequestTimeout;
        _http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("remotetest-cli", typeof(ApiClient).Assembly.GetName().Version?.ToString(3) ?? "1"));
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    public Uri Server { get; }

    /// <summary>POST /task; returns the 202 answer (<c>task_id</c>, and <c>tasks</c> for a fan-out).</summary>
    public async Task<JsonObject> SubmitAsync(JsonObject payload, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "task", payload, cancellationToken);
        if (status != HttpStatusCode.Accepted || body?["task_id"] is null)
        {
            throw Refused("the server refused the task", status, body);
        }
        return body.AsObject();
    }

    /// <summary>GET /task/{id}.</summary>
    public async Task<JsonObject> GetTaskAsync(string id, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, $"task/{Uri.EscapeDataString(id)}", null, cancellationToken);
        if (status != HttpStatusCode.OK || body is not JsonObject o)
        {
            throw Refused($"task {id}", status, body);
        }
        return o;
    }

    /// <summary>A GET whose answer must be 200; <paramref name="what"/> names it in errors (404 included).</summary>
    public async Task<JsonNode?> GetAsync(string path, string what, CancellationToken cancellationToken)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        if (status != HttpStatusCode.OK)
        {
            throw Refused(what, status, body);
        }
        return body;
    }

    /// <summary>Any request; connection problems become a <see cref="CliException"/>, HTTP statuses are returned.</summary>
    public async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? json = null;
            try
            {
                json = text.Length == 0 ? null : JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                // Not JSON (a proxy's error page): the status says enough.
            }
            return (response.StatusCode, json);
        }
        catch (HttpRequestException ex)
        {
            throw new CliException($"cannot reach the server at {Server}: {ex.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"the server at {Server} did not answer within {RequestTimeout.TotalSeconds:0} s");
        }
    }

    private static CliException Refused(string what, HttpStatusCode status, JsonNode? body)
    {
        var error = body?["error"]?.ToString();
        var field = body?["field"]?.ToString();
        var detail = status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                $"not authorised ({(int)status}): give a token with --token, REMOTETEST_TOKEN or the config file{(error is null ? "" : $" ({error})")}",
            HttpStatusCode.NotFound when error is null => "not found (404): the server does not offer this",
            _ => $"{(int)status} {(string.IsNullOrEmpty(field) ? "" : field + ": ")}{error ?? status.ToString()}",
        };
        return new CliException($"{what}: {detail}");
    }

    public void Dispose() => _http.Dispose();
}
