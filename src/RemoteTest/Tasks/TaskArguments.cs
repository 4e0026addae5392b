using System.Text.Json.Nodes;

namespace RemoteTest.Tasks;

/// <summary>
/// A task's arguments bound by parameter name, the way Celery binds <c>args</c> and <c>kwargs</c> to a
/// Python function: positional values first, then keywords; an unknown keyword or a value given twice is an error.
/// </summary>
public sealed class TaskArguments
{
    private readonly JsonObject _values;

    private TaskArguments(JsonObject values) => _values = values;

    /// <summary>The bound arguments by name, in the form the task store keeps them.</summary>
    public JsonObject Values => _values;

    public JsonNode? this[string name] => _values[name];

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>Wraps arguments already bound by name (as stored); unknown names are still refused.</summary>
    public static TaskArguments FromNamed(IReadOnlyList<TaskParameter> parameters, JsonObject named)
    {
        foreach (var (key, _) in named)
        {
            if (!parameters.Any(p => p.Name == key))
            {
                throw new TaskArgumentException($"data.kwargs.{key}", $"unexpected keyword argument '{key}'");
            }
        }
        return new TaskArguments(named);
    }

    /// <summary>Binds positional <paramref name="args"/> and keyword <paramref name="kwargs"/> to the parameters.</summary>
    public static TaskArguments Bind(IReadOnlyList<TaskParameter> parameters, JsonArray args, JsonObject kwargs)
    {
        if (args.Count > parameters.Count)
        {
            throw new TaskArgumentException("data.args",
                $"takes at most {parameters.Count} positional argument(s) ({string.Join(", ", parameters.Select(p => p.Name))}) but {args.Count} were given");
        }

        var values = new JsonObject();
        for (var i = 0; i < args.Count; i++)
        {
            values[parameters[i].Name] = args[i]?.DeepClone();
        }

        foreach (var (key, value) in kwargs)
        {
            if (!parameters.Any(p => p.Name == key))
            {
                throw new TaskArgumentException($"data.kwargs.{key}",
                    $"unexpected keyword argument '{key}'; known: {string.Join(", ", parameters.Select(p => p.Name))}");
            }
            if (values.ContainsKey(key))
            {
                throw new TaskArgumentException($"data.kwargs.{key}", $"got multiple values for argument '{key}'");
            }
            values[key] = value?.DeepClone();
        }

        foreach (var p in parameters.Where(p => p.Required && !values.ContainsKey(p.Name)))
        {
            throw new TaskArgumentException(p.Name, $"missing required argument '{p.Name}'");
        }
        return new TaskArguments(values);
    }
}
