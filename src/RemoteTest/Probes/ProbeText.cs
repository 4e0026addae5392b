using System.Globalization;

namespace RemoteTest.Probes;

/// <summary>Wording shared by the probes' error texts.</summary>
public static class ProbeText
{
    /// <summary>Seconds as a person reads them in an error: <c>2.0</c>, <c>0.5</c>, <c>1.25</c>.</summary>
    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0##", CultureInfo.InvariantCulture);

    /// <summary>A server's text cut to a length a result can carry; redact secrets before, never after.</summary>
    public static string? Shorten(string? text, int max = 300) => text is null || text.Length <= max ? text : text[..max] + "…";

    /// <summary>Rounds a duration to milliseconds with one decimal, for <c>*_ms</c> fields.</summary>
    public static double Milliseconds(TimeSpan span) => Math.Round(span.TotalMilliseconds, 1);

    /// <summary>Rounds a duration to seconds with four decimals, for <c>*_seconds</c> fields.</summary>
    public static double SecondsValue(TimeSpan span) => Math.Round(span.TotalSeconds, 4);
}
