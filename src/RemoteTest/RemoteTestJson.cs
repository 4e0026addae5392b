using System.Text.Json;
using System.Text.Json.Serialization;

namespace RemoteTest;

/// <summary>The wire's JSON conventions: snake_case members, dictionary keys (hosts, domains, ports) as given.</summary>
public static class RemoteTestJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };
}
