using System.Globalization;

// Compiled into the service and, linked, into the CLI (token new --expires).
#if REMOTETEST_CLI
namespace RemoteTest.Cli.Security;
#else
namespace RemoteTest.Security;
#endif

/// <summary>Durations a person types for an expiry: <c>90d</c>, <c>12h</c>, <c>30m</c>, <c>2w</c>, or an ISO 8601 date.</summary>
public static class TokenExpiry
{
    /// <summary>The expiry instant, or null with <paramref name="error"/> set when <paramref name="text"/> is not one.</summary>
    public static DateTimeOffset? Parse(string text, DateTimeOffset now, out string? error)
    {
        error = null;
        var t = text.Trim();
        if (t.Length >= 2 && long.TryParse(t[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 36500)
        {
            TimeSpan? span = char.ToLowerInvariant(t[^1]) switch
            {
                'm' => TimeSpan.FromMinutes(n),
                'h' => TimeSpan.FromHours(n),
                'd' => TimeSpan.FromDays(n),
                'w' => TimeSpan.FromDays(7 * n),
                _ => null,
            };
            if (span is { } s)
            {
                return now + s;
            }
        }
        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            if (at <= now)
            {
                error = $"'{text}' is in the past";
                return null;
            }
            return at;
        }
        error = $"'{text}' is not an expiry: use a duration like 90d, 12h, 30m, 2w or an ISO 8601 date";
        return null;
    }
}
