using System.Text.Json.Nodes;

namespace RemoteTest.Api;

/// <summary><c>GET /workers</c>: the live workers, where they stand, what they serve and run.</summary>
public static class WorkerEndpoints
{
    public static IEndpointRouteBuilder MapWorkerEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/workers", async (HttpContext http, LiveWorkers live, Store.ITaskStore store, CancellationToken cancellationToken) =>
        {
            var workers = await live.ListAsync(cancellationToken);
            var caller = Security.CallerExtensions.Caller(http);
            var list = new JsonArray();
            foreach (var w in workers)
            {
                // Running task ids are listed to their owner (admin sees all): another tenant's ids are not confirmed.
                var visible = new List<Guid>();
                foreach (var id in w.RunningTasks ?? [])
                {
                    if (caller.IsAdmin || (await store.GetAsync(id, cancellationToken) is { } task && caller.CanSee(task)))
                    {
                        visible.Add(id);
                    }
                }
                list.Add(new JsonObject
                {
                    ["name"] = w.Name,
                    ["location"] = w.Location,
                    ["queues"] = new JsonArray(w.Queues.Select(q => (JsonNode)JsonValue.Create(q)).ToArray()),
                    ["started"] = Wire(w.Started),
                    ["last_heartbeat"] = Wire(w.Heartbeat),
                    ["running"] = w.Running,
                    ["running_tasks"] = new JsonArray(visible.Select(id => (JsonNode)JsonValue.Create(id.ToString())).ToArray()),
                    ["version"] = w.Version,
                });
            }
            var queues = new JsonObject();
            foreach (var group in workers.SelectMany(w => w.Queues.Select(q => (q, w.Name))).GroupBy(x => x.q).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                queues[group.Key] = new JsonArray(group.Select(x => (JsonNode)JsonValue.Create(x.Name)).ToArray());
            }
            return TypedResults.Json(new JsonObject { ["workers"] = list, ["count"] = workers.Count, ["queues"] = queues });
        });
        return app;
    }

    /// <summary>Times on the wire: UTC, ISO 8601 with milliseconds, as in <c>GET /task/{id}</c>.</summary>
    public static string Wire(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}
