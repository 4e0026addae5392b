using System.Text.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Cli.Commands;

/// <summary>Reads a JSON file the user named ("-" for standard input); a problem is a usage error.</summary>
public static class JsonInput
{
    /// <summary>
    /// What a lone "-" argument becomes before the parser sees it: Spectre.Console.Cli takes "-" for an option without
    /// a name and refuses it, so the entry point swaps it for this stand-in, which no option parser mistakes.
    /// </summary>
    public const string StandardInput = "<stdin>";

    public static bool IsStandardInput(string path) => path is "-" or StandardInput;

    public static JsonNode Read(string path, CliEnvironment environment)
    {
        string text;
        try
        {
            text = IsStandardInput(path) ? environment.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read {Name(path)}: {ex.Message}");
        }
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                   ?? throw new CliException($"{Name(path)} holds null, not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new CliException($"{Name(path)} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>A JSON object from <paramref name="path"/>.</summary>
    public static JsonObject ReadObject(string path, CliEnvironment environment) =>
        Read(path, environment) as JsonObject ?? throw new CliException($"{Name(path)} must hold a JSON object");

    /// <summary>True for a whole API payload (<c>{"task_name", "data"}</c>) rather than a task's data alone.</summary>
    public static bool IsPayload(JsonObject o) => o.ContainsKey("task_name");

    /// <summary>The payload's keyword arguments, turning <c>data: X</c> into <c>data: {args: [X], kwargs: {}}</c> first.</summary>
    public static JsonObject Kwargs(JsonObject payload)
    {
        var data = payload["data"];
        if (data is not JsonObject d || !(d.ContainsKey("args") || d.ContainsKey("kwargs")))
        {
            payload["data"] = d = new JsonObject { ["args"] = new JsonArray(data?.DeepClone()) };
        }
        if (d["kwargs"] is not JsonObject kwargs)
        {
            d["kwargs"] = kwargs = [];
        }
        return kwargs;
    }

    /// <summary>A payload for <paramref name="taskName"/> with <paramref name="data"/> as its first argument.</summary>
    public static JsonObject Payload(string taskName, JsonNode data) => new()
    {
        ["task_name"] = taskName,
        ["data"] = new JsonObject { ["args"] = new JsonArray(data), ["kwargs"] = new JsonObject() },
    };

    private static string Name(string path) => IsStandardInput(path) ? "standard input" : path;
}
