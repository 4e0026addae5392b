using RemoteTest.Cli;

namespace RemoteTest.Tests.Cli;

/// <summary>What one CLI run printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Out, string Err)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Err}";
}

/// <summary>Runs the CLI in this process through its real entry point, with its own streams and environment.</summary>
public sealed class CliRunner : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("remotetest-cli-").FullName;

    /// <summary>Environment variables the CLI sees; HOME is a fresh directory, so no user's config file leaks in.</summary>
    public Dictionary<string, string?> Variables { get; } = new();

    public CliRunner(Uri? server = null)
    {
        Variables["HOME"] = _home;
        if (server is not null)
        {
            Variables["REMOTETEST_SERVER"] = server.ToString();
        }
    }

    public string Home => _home;

    /// <summary>The zone --local-time shows times in (the machine's unless a test fixes one).</summary>
    public TimeZoneInfo LocalZone { get; set; } = TimeZoneInfo.Local;

    /// <summary>Writes a file into the runner's directory and returns its path.</summary>
    public string File(string name, string content)
    {
        var path = Path.Combine(_home, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public Task<CliRun> RunWithAsync(string stdin, HttpMessageHandler? handler, params string[] args) => RunWithAsync(stdin, handler, null, args);

    /// <summary>
    /// Runs with <paramref name="errorConsole"/> as the terminal on standard error (a recording console that says it
    /// is interactive): the live progress display is drawn there instead of the plain lines a pipe gets.
    /// </summary>
    public Task<CliRun> RunInTerminalAsync(Spectre.Console.IAnsiConsole errorConsole, params string[] args) => RunWithAsync("", null, errorConsole, args);

    /// <summary>Runs and, after <paramref name="after"/>, cancels the command's token as Ctrl-C does (see the CLI's EntryPoint).</summary>
    public Task<CliRun> RunInterruptedAsync(TimeSpan after, params string[] args) => RunWithAsync("", null, null, args, after);

    /// <summary>As <see cref="RunInterruptedAsync(TimeSpan, string[])"/>, over <paramref name="handler"/>.</summary>
    public Task<CliRun> RunInterruptedAsync(TimeSpan after, HttpMessageHandler handler, params string[] args) => RunWithAsync("", handler, null, args, after);

    private async Task<CliRun> RunWithAsync(string stdin, HttpMessageHandler? handler, Spectre.Console.IAnsiConsole? errorConsole, string[] args, TimeSpan? interruptAfter = null)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var environment = new CliEnvironment
        {
            Out = output,
            Error = error,
            In = new StringReader(stdin),
            Variable = name => Variables.GetValueOrDefault(name),
            Handler = handler,
            Interactive = errorConsole is not null,
            ErrorConsole = errorConsole,
            LocalZone = LocalZone,
        };
        using var timeout = new CancellationTokenSource(interruptAfter ?? TimeSpan.FromSeconds(60));
        var code = await CliApp.RunAsync(args, environment, timeout.Token);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public Task<CliRun> RunAsync(params string[] args) => RunWithAsync("", null, args);

    public void Dispose() => Directory.Delete(_home, recursive: true);
}
