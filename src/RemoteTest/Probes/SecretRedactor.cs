using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace RemoteTest.Probes;

/// <summary>
/// Replaces a secret with the mask in any text a server sent back (an error summary, a SOAP fault, a redirect
/// target), in every form the secret travelled in: as typed, XML-escaped, URL-encoded and inside a Basic credential.
/// A server that echoes a request (some SOAP faults quote it) then cannot carry the password into a result.
/// </summary>
public sealed class SecretRedactor
{
    public const string Mask = "******";

    private readonly string[] _forms;

    public SecretRedactor(string? secret, string? user = null)
        : this(secret is null ? [] : [secret], user)
    {
    }

    /// <summary>
    /// Several secrets of one task (the password, a device password, a client key); <paramref name="user"/> pairs with
    /// the first, the one sent in a Basic credential.
    /// </summary>
    public SecretRedactor(IEnumerable<string?> secrets, string? user = null)
    {
        var forms = new List<string>();
        var first = true;
        foreach (var secret in secrets)
        {
            if (string.IsNullOrEmpty(secret))
            {
                first = false;
                continue;
            }
            forms.AddRange(
            [
                secret,
                System.Security.SecurityElement.Escape(secret),
                WebUtility.UrlEncode(secret),
                Uri.EscapeDataString(secret),
                WebUtility.HtmlEncode(secret),
            ]);
            if (first && user is not null)
            {
                forms.Add(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{secret}")));
            }
            first = false;
        }
        // Longest first, so a form containing another is replaced whole.
        _forms = [.. forms.Where(f => f.Length > 0).Distinct().OrderByDescending(f => f.Length)];
    }

    /// <summary>No secret: every text passes unchanged.</summary>
    public static SecretRedactor None { get; } = new((string?)null);

    public string? Redact(string? text)
    {
        if (string.IsNullOrEmpty(text) || _forms.Length == 0)
        {
            return text;
        }
        foreach (var form in _forms)
        {
            text = text.Replace(form, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    /// <summary>Redacts every string value (and member name) in a JSON tree in place; returns it.</summary>
    public JsonNode? RedactAll(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    var clean = Redact(key)!;
                    if (clean != key)
                    {
                        o.Remove(key);
                        o[clean] = value;
                    }
                    if (value is JsonValue v && v.TryGetValue(out string? s))
                    {
                        o[clean] = Redact(s);
                    }
                    else
                    {
                        RedactAll(value);
                    }
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (a[i] is JsonValue v && v.TryGetValue(out string? s))
                    {
                        a[i] = Redact(s);
                    }
                    else
                    {
                        RedactAll(a[i]);
                    }
                }
                break;
        }
        return node;
    }
}
