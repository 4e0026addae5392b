using System.Text.Json.Nodes;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;
using RemoteTest.Tasks;
using Scalar.AspNetCore;

namespace RemoteTest.Api;

/// <summary>
/// The OpenAPI 3 document at <c>/openapi/v1.json</c> and its interactive page at <c>/docs</c> (Scalar).
/// Endpoints describe themselves; this adds what routing cannot know: each task's argument schema (from the
/// task's own parameters, so a new task documents itself), the original's example payloads, and the shapes
/// of the answers.
/// </summary>
public static class ApiDocument
{
    public const string DocumentPath = "/openapi/{documentName}.json";
    public const string DocsPath = "/docs";

    public static IServiceCollection AddRemoteTestApiDocument(this IServiceCollection services) =>
        services.AddOpenApi("v1", o =>
        {
            o.OpenApiVersion = OpenApiSpecVersion.OpenApi3_1;
            o.AddDocumentTransformer((document, context, _) =>
            {
                Describe(document, context.ApplicationServices.GetRequiredService<TaskRegistry>());
                return Task.CompletedTask;
            });
        });

    public static WebApplication MapRemoteTestApiDocument(this WebApplication app)
    {
        app.MapOpenApi(DocumentPath);
        // Only the page itself (no extension), not Scalar's script and style files beside it.
        app.UseWhen(http => http.Request.Path.StartsWithSegments(DocsPath) && !Path.HasExtension(http.Request.Path.Value), docs => docs.Use(DocsPageSecurity.AllowItsInlineScriptsAsync));
        app.MapScalarApiReference(DocsPath, o => o.WithTitle("RemoteTest API").WithOpenApiRoutePattern(DocumentPath)
            // System fonts: the page loads nothing from outside this origin (its CSP would refuse it anyway).
            .DisableDefaultFonts());
        return app;
    }

    /// <summary>The original README's payloads, keyed by task name (passwords masked as they were there).</summary>
    internal static readonly IReadOnlyDictionary<string, string> Examples = new Dictionary<string, string>
    {
        ["dns.check_records"] = """
            {"task_name": "dns.check_records",
             "data": {"args": [{
                "akixi.altvoip.com": {"original": ["208.67.15.19"], "13056": ["208.67.15.19", "208.67.15.18"], "13057": ["208.67.15.18"]},
                "akixi.mymtm.us": {"original": ["208.67.14.41", "208.67.15.41", "208.67.15.42"],
                                   "13056": ["208.67.14.41", "208.67.15.41", "208.67.15.42", "208.67.14.42", "208.67.15.39", "208.67.15.38"],
                                   "13057": ["208.67.14.42", "208.67.15.39", "208.67.15.38"]}}],
                      "kwargs": {"timeout": 3.0, "include_text": true}}}
            """,
        ["porttest.run"] = PortAppExample("porttest.run"),
        ["apptest.run"] = PortAppExample("apptest.run"),
    };

    private static string PortAppExample(string task) => """
        {"task_name": "TASK",
         "data": {"args": [{
            "adp50.mymtm.us": {"ports": [80, 443, 2208, 2209, 8011, 8012],
                               "applications": ["OpenClientServer", "BWCallCenter", "BWReceptionist", "OCIOverSoap", "Xsi-Actions", "Xsi-Events", "PublicReporting"],
                               "test_data": {"user_id": "2059784479@mymtm.us", "password": "******"}}}],
                  "kwargs": {"timeout": 5.0, "verify_ssl": true}}}
        """.Replace("TASK", task, StringComparison.Ordinal);

    private const string Shapes = """
        {
          "TaskStatus": {"type": "object", "required": ["task_id", "state", "ready"], "properties": {
            "task_id": {"type": "string", "format": "uuid"},
            "state": {"type": "string", "enum": ["PENDING", "STARTED", "RETRY", "FAILURE", "SUCCESS", "REVOKED"]},
            "ready": {"type": "boolean", "description": "true for SUCCESS, FAILURE and REVOKED"},
            "result": {"type": "object", "description": "when SUCCESS: {summary, results}"},
            "error": {"type": "string", "description": "when FAILURE or REVOKED"},
            "task_name": {"type": "string"}, "queue": {"type": "string"},
            "date_submitted": {"type": ["string", "null"], "format": "date-time"},
            "date_started": {"type": ["string", "null"], "format": "date-time"},
            "date_done": {"type": ["string", "null"], "format": "date-time"},
            "worker": {"type": "string"},
            "progress": {"type": "object", "description": "while STARTED: probes finished / planned", "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}}},
            "args": {"type": "object", "description": "in listings: the arguments, secrets masked"},
            "schedule": {"type": "string"},
            "webhook": {"type": "object", "properties": {"url": {"type": "string"}, "deliveries": {"type": "array", "items": {"type": "object"}}}}}},
          "TaskList": {"type": "object", "properties": {
            "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/TaskStatus"}},
            "count": {"type": "integer"}, "next_cursor": {"type": ["string", "null"]}, "next": {"type": ["string", "null"]}}},
          "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}, "field": {"type": "string"}}},
          "Schedule": {"type": "object", "required": ["name", "task_name", "cron"], "properties": {
            "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"},
            "task_name": {"type": "string"}, "data": {"description": "as in POST /task"},
            "cron": {"type": "string", "examples": ["*/5 * * * *", "*/30 * * * * *"]},
            "time_zone": {"type": "string", "default": "UTC"}, "queue": {"type": "string"},
            "webhook": {"type": "string", "format": "uri"}, "notify": {"type": "string", "enum": ["change", "cert_expiry"]},
            "thresholds": {"type": "array", "items": {"type": "integer"}, "default": [21, 14, 7]}}}
        }
        """;

    private static void Describe(OpenApiDocument document, TaskRegistry registry)
    {
        document.Info.Title = "RemoteTest";
        document.Info.Description = "Remote network tests (DNS states, ports and TLS, BroadWorks applications) run from where the workers stand. " +
                                    "Wire-compatible with the Flask + Celery remote_test: POST /task, GET /task/{id}.";
        document.Components ??= new OpenApiComponents();
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, node) in JsonNode.Parse(Shapes)!.AsObject())
        {
            document.Components.Schemas[name] = Schema(node!, document);
        }

        var submissions = new List<IOpenApiSchema>();
        foreach (var task in registry.All)
        {
            var id = "task." + task.Name;
            document.Components.Schemas[id] = Schema(TaskSchema(task), document);
            submissions.Add(new OpenApiSchemaReference(id, document));
        }

        if (document.Paths?.TryGetValue("/task", out var path) == true && path.Operations?.TryGetValue(HttpMethod.Post, out var post) == true)
        {
            post.Summary = "Submit a task";
            post.Description = "202 with {task_id} and a Location header; 400 {error, field} when the body or an argument is wrong (nothing is queued).";
            var media = new OpenApiMediaType
            {
                Schema = submissions.Count == 0 ? new OpenApiSchema { Type = JsonSchemaType.Object } : new OpenApiSchema { OneOf = submissions },
                Examples = new Dictionary<string, IOpenApiExample>(),
            };
            foreach (var task in registry.All)
            {
                if (Examples.TryGetValue(task.Name, out var example))
                {
                    media.Examples[task.Name] = new OpenApiExample { Summary = $"{task.Name} (from the original README)", Value = JsonNode.Parse(example) };
                }
            }
            post.RequestBody = new OpenApiRequestBody { Required = true, Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = media } };
        }
    }

    /// <summary>A <c>POST /task</c> body for one task: its name and its arguments, by keyword or by position.</summary>
    private static JsonObject TaskSchema(IRemoteTask task)
    {
        // The same argument schema GET /tasks shows.
        var kwargs = ServiceEndpoints.Describe(task)["args_schema"]!.DeepClone();
        return new JsonObject
        {
            ["type"] = "object",
            ["description"] = task.Description,
            ["required"] = new JsonArray("task_name", "data"),
            ["properties"] = new JsonObject
            {
                ["task_name"] = new JsonObject { ["const"] = task.Name },
                ["queue"] = new JsonObject { ["type"] = "string", ["description"] = "the vantage point (worker queue); default \"default\"" },
                ["webhook"] = new JsonObject { ["type"] = "string", ["format"] = "uri", ["description"] = "POSTed the task when it is ready (signed)" },
                ["data"] = new JsonObject
                {
                    ["type"] = "object",
                    ["description"] = $"args in order ({string.Join(", ", task.Parameters.Select(p => p.Name))}) and/or kwargs",
                    ["properties"] = new JsonObject { ["args"] = new JsonObject { ["type"] = "array" }, ["kwargs"] = kwargs },
                },
            },
        };
    }

    private static IOpenApiSchema Schema(JsonNode json, OpenApiDocument document) =>
        OpenApiModelFactory.Parse<OpenApiSchema>(json.ToJsonString(), OpenApiSpecVersion.OpenApi3_1, document, out _, "json")
        ?? new OpenApiSchema { Type = JsonSchemaType.Object };
}

/// <summary>
/// The Content-Security-Policy of the <c>/docs</c> page: the site-wide policy (scripts from this origin only) blocks
/// Scalar's inline start-up script and leaves a blank page. Rather than allow every inline script, the policy of this
/// page allows exactly the inline scripts it carries, by their SHA-256 hashes; everything else stays as strict.
/// </summary>
internal static partial class DocsPageSecurity
{
    /// <summary>The page is a few hundred bytes; anything larger is passed through with the site-wide policy.</summary>
    private const int MaxBufferedBytes = 64 * 1024;

    [System.Text.RegularExpressions.GeneratedRegex(@"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex InlineScript();

    public static async Task AllowItsInlineScriptsAsync(HttpContext http, Func<Task> next)
    {
        var original = http.Response.Body;
        using var buffer = new MemoryStream();
        http.Response.Body = buffer;
        try
        {
            await next();
        }
        finally
        {
            http.Response.Body = original;
        }
        if (http.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true && buffer.Length <= MaxBufferedBytes)
        {
            var html = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            var hashes = InlineScript().Matches(html)
                .Select(m => $"'sha256-{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(m.Groups[1].Value)))}'")
                .Distinct();
            http.Response.Headers.ContentSecurityPolicy =
                $"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' {string.Join(' ', hashes)}; " +
                "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
        }
        buffer.Position = 0;
        await buffer.CopyToAsync(original, http.RequestAborted);
    }
}
