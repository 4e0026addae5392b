namespace RemoteTest.Security;

/// <summary>
/// Webhook URLs are secrets: Slack, Teams and most chat hooks put the credential in the path. Stored as
/// <c>"dp1 &lt;origin&gt; &lt;ciphertext&gt;"</c> (the origin in clear so listings can show where deliveries go without
/// decrypting), shown everywhere as <c>https://hooks.example.com/******</c>, decrypted only to deliver.
/// </summary>
public static class WebhookSecret
{
    private const string Prefix = "dp1 ";
    private const string Hidden = "/******";

    /// <summary>The stored form of <paramref name="url"/>; <paramref name="protect"/> encrypts (Data Protection).</summary>
    public static string? Protect(string? url, Func<string, string> protect)
    {
        if (url is null || url.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return url;
        }
        return $"{Prefix}{Origin(url)} {protect(url)}";
    }

    /// <summary>The URL to deliver to; a URL stored before encryption (plain) is returned as it is.</summary>
    public static string Reveal(string stored, Func<string, string> unprotect)
    {
        if (!stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return stored;
        }
        var space = stored.IndexOf(' ', Prefix.Length);
        return unprotect(stored[(space + 1)..]);
    }

    /// <summary>What a listing, a log line or the UI shows: scheme, host and port, the rest masked.</summary>
    public static string? Mask(string? stored)
    {
        if (stored is null)
        {
            return null;
        }
        if (stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            var space = stored.IndexOf(' ', Prefix.Length);
            return stored[Prefix.Length..(space < 0 ? stored.Length : space)] + Hidden;
        }
        return Origin(stored) + Hidden;
    }

    private static string Origin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : "webhook";
}
