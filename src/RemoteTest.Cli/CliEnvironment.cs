using System.Text.Json.Nodes;
using Spectre.Console;

namespace RemoteTest.Cli;

/// <summary>
/// Everything the CLI takes from its process: output streams, environment variables, standard input and the
/// HTTP handler. Tests run the CLI in-process with their own.
/// </summary>
public sealed class CliEnvironment
{
    /// <summary>The server when neither an option, the environment nor the config file names one (the service's default).</summary>
    public const string DefaultServer = "http://127.0.0.1:8080";

    public required TextWriter Out { get; init; }
    public required TextWriter Error { get; init; }
    public required TextReader In { get; init; }
    public required Func<string, string?> Variable { get; init; }

    /// <summary>True when a person watches the error stream: live progress is drawn there, otherwise plain lines.</summary>
    public bool Interactive { get; init; }

    /// <summary>True when standard output is a terminal (colours, terminal width).</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>The zone <c>--local-time</c> shows times in: this machine's; tests give a fixed one.</summary>
    public TimeZoneInfo LocalZone { get; init; } = TimeZoneInfo.Local;

    /// <summary>The HTTP handler; null for the default sockets handler.</summary>
    public HttpMessageHandler? Handler { get; init; }

    public static CliEnvironment FromProcess() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        In = Console.In,
        Variable = Environment.GetEnvironmentVariable,
        Interactive = !Console.IsErrorRedirected,
        OutputIsTerminal = !Console.IsOutputRedirected,
    };

    /// <summary>The console results are written to (standard output).</summary>
    public IAnsiConsole CreateOutConsole() => Create(Out, OutputIsTerminal);

    /// <summary>
    /// The console for progress and messages when not one over <see cref="Error"/>: tests give a recording
    /// console that claims to be an interactive terminal, so the live progress display is drawn and can be read.
    /// </summary>
    public IAnsiConsole? ErrorConsole { get; init; }

    /// <summary>The console progress and messages are written to (standard error), so --json output stays clean.</summary>
    public IAnsiConsole CreateErrorConsole() => ErrorConsole ?? Create(Error, Interactive);

    private IAnsiConsole Create(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (int.TryParse(Variable("COLUMNS"), out var columns) && columns > 40)
        {
            // An exported COLUMNS is the width a person asked for, on a terminal too (and how tests fix the width).
            console.Profile.Width = columns;
        }
        else if (!terminal)
        {
            // A file or pipe has no width; wide enough that a table is not folded into slivers.
            console.Profile.Width = 160;
        }
        return console;
    }

    /// <summary>
    /// Where the config file is: $REMOTETEST_CONFIG, else $XDG_CONFIG_HOME/remotetest/config.json, else
    /// ~/.config/remotetest/config.json.
    /// </summary>
    public string ConfigPath()
    {
        if (Variable("REMOTETEST_CONFIG") is { Length: > 0 } explicitPath)
        {
            return explicitPath;
        }
        var home = Variable("XDG_CONFIG_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Variable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
        return Path.Combine(home, "remotetest", "config.json");
    }

    /// <summary>Server and token: the option wins, then REMOTETEST_SERVER / REMOTETEST_TOKEN, then the config file.</summary>
    public (Uri Server, string? Token) Connection(string? serverOption, string? tokenOption)
    {
        JsonObject? file = null;
        var path = ConfigPath();
        if (File.Exists(path))
        {
            try
            {
                file = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new CliException($"config file {path} is not valid JSON: {ex.Message}");
            }
        }
        string? FromFile(string key) => file?[key] is JsonValue v && v.TryGetValue(out string? s) ? s : null;

        var server = First(serverOption, Variable("REMOTETEST_SERVER"), FromFile("server")) ?? DefaultServer;
        var token = First(tokenOption, Variable("REMOTETEST_TOKEN"), FromFile("token"));
        if (!server.Contains("://", StringComparison.Ordinal))
        {
            server = "http://" + server;
        }
        if (!Uri.TryCreate(server.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{server}' is not a server URL (e.g. http://127.0.0.1:8080)");
        }
        return (uri, token);
    }

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}

/// <summary>A usage or connection problem: printed as one line, exit code 2.</summary>
public sealed class CliException(string message) : Exception(message);
