using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Tasks;

/// <summary>Typed reads of JSON argument values; every failure names the field.</summary>
public static class ArgumentReader
{
    /// <summary>Field path of an object member, e.g. <c>data["example.com"]</c>.</summary>
    public static string Member(string field, string key) => $"{field}[\"{key}\"]";

    /// <summary>Field path of an array element, e.g. <c>ports[2]</c>.</summary>
    public static string Element(string field, int index) => $"{field}[{index}]";

    public static JsonObject Object(JsonNode? node, string field) =>
        node as JsonObject ?? throw new TaskArgumentException(field, $"{field} must be an object, got {Describe(node)}");

    public static JsonArray Array(JsonNode? node, string field) =>
        node as JsonArray ?? throw new TaskArgumentException(field, $"{field} must be a list, got {Describe(node)}");

    public static string String(JsonNode? node, string field, int maxLength = 1024)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            throw new TaskArgumentException(field, $"{field} must be a string, got {Describe(node)}");
        }
        var s = v.GetValue<string>();
        if (s.Length > maxLength)
        {
            throw new TaskArgumentException(field, $"{field} is longer than {maxLength} characters");
        }
        return s;
    }

    /// <summary>A string that goes into a protocol message (XML, a header line, a URL): no control characters.</summary>
    public static string ProtocolString(JsonNode? node, string field, int maxLength = 1024)
    {
        var s = String(node, field, maxLength);
        return Security.ProtocolText.Refusal(s) is { } why ? throw new TaskArgumentException(field, $"{field} {why}") : s;
    }

    public static bool Boolean(JsonNode? node, string field) => node?.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new TaskArgumentException(field, $"{field} must be true or false, got {Describe(node)}"),
    };

    /// <summary>A number within [min, max]; JSON integers and decimals both accepted, as Python accepted both.</summary>
    public static double Number(JsonNode? node, string field, double min, double max)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !TryGetDouble(v, out var d) || !double.IsFinite(d))
        {
            throw new TaskArgumentException(field, $"{field} must be a number, got {Describe(node)}");
        }
        if (d < min || d > max)
        {
            throw new TaskArgumentException(field,
                $"{field} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, got {d.ToString(CultureInfo.InvariantCulture)}");
        }
        return d;
    }

    /// <summary>A whole number within [min, max].</summary>
    public static int Integer(JsonNode? node, string field, int min, int max)
    {
        var d = Number(node, field, min, max);
        if (d != Math.Floor(d))
        {
            throw new TaskArgumentException(field, $"{field} must be a whole number, got {d.ToString(CultureInfo.InvariantCulture)}");
        }
        return (int)d;
    }

    /// <summary>A TCP/UDP port: a whole number 1–65535 (a numeric string is accepted, as the original's socket call did).</summary>
    public static int Port(JsonNode? node, string field)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String &&
            int.TryParse(v.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var fromString))
        {
            node = JsonValue.Create(fromString);
        }
        if (node is JsonValue n && n.GetValueKind() == JsonValueKind.Number && TryGetDouble(n, out var d) && d == Math.Floor(d) && (d < 1 || d > 65535))
        {
            throw new TaskArgumentException(field, $"{field}: port {d.ToString(CultureInfo.InvariantCulture)} is outside 1-65535");
        }
        return Integer(node, field, 1, 65535);
    }

    /// <summary>A host: an IPv4 or IPv6 literal (brackets allowed) or a valid DNS name; returns it normalised.</summary>
    public static string Host(string value, string field)
    {
        var host = value.Trim();
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        if (IPAddress.TryParse(host, out var ip) && (host.Contains(':') || IsDottedQuad(host)))
        {
            return ip.ToString();
        }
        if (!IsDnsName(host))
        {
            throw new TaskArgumentException(field, $"{field}: '{Truncate(value)}' is not a valid host name or IP address");
        }
        return host.TrimEnd('.');
    }

    /// <summary>True for a syntactically valid DNS name (labels of letters, digits, '-' and '_', at most 253 characters).</summary>
    public static bool IsDnsName(string name)
    {
        var n = name.EndsWith('.') ? name[..^1] : name;
        if (n.Length is 0 or > 253)
        {
            return false;
        }
        foreach (var label in n.Split('.'))
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-'))
            {
                return false;
            }
            if (!label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// A JSON number as a double, whether parsed (JsonElement inside) or built in code (e.g. an int, as
    /// <see cref="Port"/> builds from a numeric string): TryGetValue alone only converts the former.
    /// </summary>
    private static bool TryGetDouble(JsonValue value, out double d) =>
        value.TryGetValue(out d) ||
        double.TryParse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d);

    private static bool IsDottedQuad(string s) => s.Count(c => c == '.') == 3 && s.All(c => char.IsAsciiDigit(c) || c == '.');

    private static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    private static string Describe(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "an unknown value",
    };
}
