using System.Text.Json;
using System.Text.Json.Nodes;
using RemoteTest.Store;

namespace RemoteTest.Security;

/// <summary>
/// Stored task arguments as listings and revocation show them: masked, and readable whatever their depth. Requests
/// are limited to 32 levels, but a task stored before that limit (or by another version) may be deeper than
/// System.Text.Json's default of 64, which made its listing and its revocation answer 500.
/// </summary>
public static class StoredArguments
{
    /// <summary>Deep enough for anything a request of 64 levels could have stored, with room.</summary>
    private const int MaxDepth = 256;

    private static readonly JsonDocumentOptions Read = new() { MaxDepth = MaxDepth };
    private static readonly JsonSerializerOptions Write = new() { MaxDepth = MaxDepth };

    /// <summary>The masked arguments as JSON text; <c>{}</c> when they cannot be read at all.</summary>
    public static string Masked(string arguments)
    {
        try
        {
            var node = JsonNode.Parse(arguments, documentOptions: Read) ?? new JsonObject();
            return ArgumentSecrets.MaskAll(node).ToJsonString(Write);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "{}";
        }
    }
}
