using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Tasks;

namespace RemoteTest.Api;

/// <summary>A <c>POST /task</c> body, validated against the named task before anything is stored.</summary>
/// <param name="Arguments">The arguments bound to the task's parameters, as they are stored.</param>
/// <param name="Parsed">The same, parsed and validated once by the task (its arguments record), carried to the gate.</param>
/// <param name="FanOut">For <c>queues</c>: the queues to run one child task on each; <c>["*"]</c> means every live queue.</param>
public sealed record TaskSubmission(IRemoteTask Task, TaskArguments Arguments, object Parsed, string Queue, IReadOnlyList<string>? FanOut = null)
{
    /// <summary>Stands for "every queue a live worker serves" in <c>"queues": "*"</c>.</summary>
    public const string AllQueues = "*";

    /// <summary>Most child tasks one fan-out may create.</summary>
    public const int MaxFanOut = 64;

    /// <summary>Where the result is POSTed when the task is ready (each child's, for a fan-out); null for none.</summary>
    public string? Webhook { get; init; }

    /// <summary>The default queue, Celery's <c>celery</c> renamed; every worker listens on it unless told otherwise.</summary>
    public const string DefaultQueue = "default";

    /// <summary>
    /// Reads <c>{"task_name", "data": {"args", "kwargs"}}</c> or <c>{"task_name", "data": X}</c> (X the single
    /// positional argument), binds it to the task's parameters and validates it.
    /// </summary>
    public static TaskSubmission Parse(JsonNode? body, TaskRegistry registry, int maxWebhookLength = 2048)
    {
        if (body is not JsonObject payload)
        {
            throw new TaskArgumentException("body", "Invalid JSON body: expected an object");
        }

        var taskName = payload["task_name"];
        if (taskName is null || (taskName.GetValueKind() == JsonValueKind.String && taskName.GetValue<string>().Length == 0))
        {
            throw new TaskArgumentException("task_name", "Missing 'task_name'");
        }
        var name = ArgumentReader.String(taskName, "task_name", 200);
        if (!registry.TryGet(name, out var task))
        {
            throw new TaskArgumentException("task_name", $"Unknown task '{name}'; known tasks: {string.Join(", ", registry.Names)}");
        }

        var (args, kwargs) = SplitData(payload["data"]);
        var arguments = TaskArguments.Bind(task.Parameters, args, kwargs);
        var parsed = task.Parse(arguments);

        var queue = DefaultQueue;
        if (payload["queue"] is { } q)
        {
            queue = QueueName(q, "queue");
        }
        var webhook = payload["webhook"] is { } w ? WebhookUrl.Parse(w, "webhook", maxWebhookLength) : null;
        return new TaskSubmission(task, arguments, parsed, queue, FanOutQueues(payload)) { Webhook = webhook };
    }

    private static string QueueName(JsonNode? node, string field)
    {
        var queue = ArgumentReader.String(node, field, 64);
        if (!StartupValidation.IsQueueName(queue))
        {
            throw new TaskArgumentException(field, $"'{queue}' is not a queue name (lower-case letters, digits, '_' and '-')");
        }
        return queue;
    }

    /// <summary><c>"queues": ["fra", "dfw"]</c> or <c>"queues": "*"</c>; null when absent.</summary>
    private static List<string>? FanOutQueues(JsonObject payload)
    {
        if (payload["queues"] is not { } node)
        {
            return null;
        }
        if (payload.ContainsKey("queue"))
        {
            throw new TaskArgumentException("queues", "give either 'queue' (one vantage point) or 'queues' (fan-out), not both");
        }
        if (node.GetValueKind() == JsonValueKind.String && node.GetValue<string>() == AllQueues)
        {
            return [AllQueues];
        }
        if (node is not JsonArray list || list.Count == 0)
        {
            throw new TaskArgumentException("queues", "'queues' must be a non-empty list of queue names, or \"*\" for every live queue");
        }
        if (list.Count > MaxFanOut)
        {
            throw new TaskArgumentException("queues", $"at most {MaxFanOut} queues in one fan-out");
        }
        var queues = new List<string>();
        for (var i = 0; i < list.Count; i++)
        {
            var name = QueueName(list[i], ArgumentReader.Element("queues", i));
            if (queues.Contains(name))
            {
                throw new TaskArgumentException(ArgumentReader.Element("queues", i), $"queue '{name}' is listed twice");
            }
            queues.Add(name);
        }
        return queues;
    }

    /// <summary>The original's normalisation of <c>data</c> into positional and keyword arguments.</summary>
    private static (JsonArray Args, JsonObject Kwargs) SplitData(JsonNode? data)
    {
        if (data is JsonObject o && (o.ContainsKey("args") || o.ContainsKey("kwargs")))
        {
            foreach (var (key, _) in o)
            {
                if (key is not ("args" or "kwargs"))
                {
                    throw new TaskArgumentException($"data.{key}", $"unexpected member 'data.{key}' beside 'args'/'kwargs'");
                }
            }
            var args = o["args"] switch
            {
                null => [],
                JsonArray a => a,
                _ => throw new TaskArgumentException("data.args", "'data.args' must be a list and 'data.kwargs' must be an object"),
            };
            var kwargs = o["kwargs"] switch
            {
                null => [],
                JsonObject k => k,
                _ => throw new TaskArgumentException("data.kwargs", "'data.args' must be a list and 'data.kwargs' must be an object"),
            };
            return (args, kwargs);
        }
        return data is null ? ([], []) : ([data.DeepClone()], []);
    }
}
