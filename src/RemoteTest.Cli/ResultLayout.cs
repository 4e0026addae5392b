using System.Globalization;

namespace RemoteTest.Cli;

/// <summary>What <c>--format</c> asked for; Auto lets <see cref="ResultLayouts.Decide"/> choose table or list.</summary>
public enum OutputFormat { Auto, Table, List, Json }

/// <summary>How a result is drawn: a bordered table, or an nmap-style list (one line per check).</summary>
public enum ResultLayout { Table, List }

/// <summary>When the list replaces the table, so many ports or a narrow terminal never fold a host into slivers.</summary>
public static class ResultLayouts
{
    /// <summary>More lines than this read better as a list than as a bordered table.</summary>
    public const int MaxTableRows = 8;

    /// <summary>A terminal narrower than this gets the list: a six-column table would fold its cells.</summary>
    public const int MinTableWidth = 100;

    /// <summary>
    /// The console width the list is written at: wide enough that no line is ever folded by the CLI (a terminal
    /// soft-wraps a long reason at its end, as it does nmap's, and every line still starts with its host).
    /// </summary>
    public const int ListWidth = 4096;

    /// <summary>The layout for <paramref name="rows"/> checks on a console <paramref name="width"/> wide.</summary>
    public static ResultLayout Decide(OutputFormat format, int rows, int width, bool terminal) => format switch
    {
        OutputFormat.Table => ResultLayout.Table,
        OutputFormat.List => ResultLayout.List,
        // Redirected output is read by grep and awk: the list, one line per check.
        _ => !terminal || rows > MaxTableRows || width < MinTableWidth ? ResultLayout.List : ResultLayout.Table,
    };

    /// <summary>A listing (task list): a table only on a terminal at least <paramref name="minWidth"/> wide, however many rows.</summary>
    public static ResultLayout DecideListing(OutputFormat format, int width, bool terminal, int minWidth) => format switch
    {
        OutputFormat.Table => ResultLayout.Table,
        OutputFormat.List => ResultLayout.List,
        _ => !terminal || width < minWidth ? ResultLayout.List : ResultLayout.Table,
    };

    /// <summary>A console on <paramref name="environment"/>'s standard output that never folds a line: for the list.</summary>
    public static Spectre.Console.IAnsiConsole ListConsole(CliEnvironment environment)
    {
        var console = environment.CreateOutConsole();
        console.Profile.Width = ListWidth;
        return console;
    }
}

/// <summary>Every time the CLI prints, one format with its zone: "2026-12-02 04:20:11 UTC", or "+01:00" when local.</summary>
public static class CliTime
{
    /// <summary>A time in <paramref name="zone"/>; UTC is written "UTC", any other zone as its offset at that time.</summary>
    public static string Format(DateTimeOffset time, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(time, zone);
        // A machine whose local zone is UTC says so in words, not "+00:00".
        var suffix = zone == TimeZoneInfo.Utc || zone.HasSameRules(TimeZoneInfo.Utc) ? "UTC" : local.ToString("zzz", CultureInfo.InvariantCulture);
        return local.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " " + suffix;
    }

    /// <summary>A time the API sent (ISO 8601, or Unix seconds), formatted; the text as it came when it is no time; null for none.</summary>
    public static string? Format(string? text, TimeZoneInfo zone) => Parse(text) is { } t ? Format(t, zone) : text;

    /// <summary>An API time: ISO 8601 (UTC when no zone is given) or Unix seconds.</summary>
    public static DateTimeOffset? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds is > 0 and < 1e11 ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000)) : null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t.ToUniversalTime() : null;
    }
}
