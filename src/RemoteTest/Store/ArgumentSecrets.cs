using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;

namespace RemoteTest.Store;

/// <summary>
/// Keeps secrets in task arguments (any member named like password, secret or token) out of storage in
/// plain text (and private keys, named like client_key_pem): encrypted with Data Protection while the task waits to run, masked once it has ended.
/// </summary>
public sealed class ArgumentSecrets(IDataProtectionProvider provider)
{
    /// <summary>What a secret looks like everywhere outside the probe that uses it.</summary>
    public const string Mask = "******";

    private const string ProtectedKey = "$protected";
    private readonly IDataProtector _protector = provider.CreateProtector("RemoteTest.TaskArguments.v1");

    /// <summary>True for member names that hold a secret.</summary>
    public static bool IsSecretName(string name)
    {
        var n = name.ToLowerInvariant();
        // A private key (apptest's test_data.client_key_pem) is as secret as a password.
        return n.Contains("password") || n.Contains("secret") || n.Contains("token") || n == "passwd" || n.Contains("private_key") || n.EndsWith("key_pem", StringComparison.Ordinal);
    }

    private readonly IDataProtector _webhooks = provider.CreateProtector("RemoteTest.WebhookUrl.v1");

    /// <summary>A webhook URL as stored: encrypted, its origin in clear (see <see cref="Security.WebhookSecret"/>).</summary>
    public string? ProtectWebhook(string? url) => Security.WebhookSecret.Protect(url, _webhooks.Protect);

    /// <summary>The webhook URL to deliver to.</summary>
    public string RevealWebhook(string stored) => Security.WebhookSecret.Reveal(stored, _webhooks.Unprotect);

    /// <summary>A copy with every secret string replaced by <c>{"$protected": ciphertext}</c>.</summary>
    public JsonNode Protect(JsonNode arguments) => Rewrite(arguments, v => new JsonObject { [ProtectedKey] = _protector.Protect(v) });

    /// <summary>A copy with every secret string (plain or protected) replaced by the mask.</summary>
    public static JsonNode MaskAll(JsonNode arguments) => Rewrite(arguments, _ => JsonValue.Create(Mask));

    /// <summary>A copy with protected secrets decrypted, for the worker that runs the task.</summary>
    public JsonNode Unprotect(JsonNode arguments)
    {
        var copy = arguments.DeepClone();
        UnprotectInPlace(copy);
        return copy;
    }

    private void UnprotectInPlace(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (value is JsonObject p && p.Count == 1 && p[ProtectedKey] is JsonValue c && c.TryGetValue(out string? cipher))
                    {
                        o[key] = JsonValue.Create(_protector.Unprotect(cipher));
                    }
                    else
                    {
                        UnprotectInPlace(value);
                    }
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    UnprotectInPlace(item);
                }
                break;
        }
    }

    private static JsonNode Rewrite(JsonNode node, Func<string, JsonNode?> replace)
    {
        var copy = node.DeepClone();
        RewriteInPlace(copy, replace);
        return copy;
    }

    private static void RewriteInPlace(JsonNode? node, Func<string, JsonNode?> replace)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, value) in o.ToList())
                {
                    if (IsSecretName(key) && value is JsonValue v && v.TryGetValue(out string? secret))
                    {
                        o[key] = replace(secret);
                    }
                    else if (IsSecretName(key) && value is JsonObject p && p.ContainsKey(ProtectedKey))
                    {
                        o[key] = JsonValue.Create(Mask);
                    }
                    else
                    {
                        RewriteInPlace(value, replace);
                    }
                }
                break;
            case JsonArray a:
                foreach (var item in a)
                {
                    RewriteInPlace(item, replace);
                }
                break;
        }
    }
}
