using System.Reflection;
using System.Text.Json.Nodes;
using RemoteTest.Tasks;
using RemoteTest.Web;

namespace RemoteTest.Api;

/// <summary>The original's discovery routes: <c>GET /</c> and <c>GET /tasks</c>.</summary>
public static class ServiceEndpoints
{
    /// <summary>The original reported a number (0.03); clients may compare it numerically, so it stays a number.</summary>
    private const double WireVersion = 1.0;

    public static IEndpointRouteBuilder MapServiceEndpoints(this IEndpointRouteBuilder app)
    {
        var version = typeof(ServiceEndpoints).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

        // A browser asking for "/" gets the UI; every API client (Accept */* or JSON) gets the original's JSON.
        app.MapGet("/", (ServiceRoles roles, HttpRequest request) => WebUi.PrefersHtml(request)
            ? Results.Redirect(WebUi.BasePath + "/")
            : Results.Json(new
            {
                ve_remote_test = WireVersion,
                name = "RemoteTest",
                version,
                roles = roles.Names,
                ui = WebUi.BasePath + "/",
            })).AllowAnonymous();

        app.MapGet("/tasks", (TaskRegistry registry) => Results.Json(new
        {
            task_names = registry.Names,
            count = registry.Names.Count,
            tasks = registry.All.Select(Describe),
        }));
        return app;
    }

    internal static JsonObject Describe(IRemoteTask task)
    {
        var properties = new JsonObject();
        foreach (var p in task.Parameters)
        {
            var schema = (JsonObject)p.Schema.DeepClone();
            schema["description"] = p.Description;
            properties[p.Name] = schema;
        }
        return new JsonObject
        {
            ["name"] = task.Name,
            ["description"] = task.Description,
            ["parameters"] = new JsonArray(task.Parameters.Select(p => (JsonNode)JsonValue.Create(p.Name)).ToArray()),
            ["args_schema"] = new JsonObject
            {
                ["type"] = "object",
                ["properties"] = properties,
                ["required"] = new JsonArray(task.Parameters.Where(p => p.Required).Select(p => (JsonNode)JsonValue.Create(p.Name)).ToArray()),
                ["additionalProperties"] = false,
            },
        };
    }
}
