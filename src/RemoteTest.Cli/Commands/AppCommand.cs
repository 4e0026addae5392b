using System.ComponentModel;
using System.Text.Json.Nodes;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

public sealed class AppSettings : SubmitSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("Hosts JSON in the original's format: {host: {applications, test_data}} (or a whole payload); - for standard input.")]
    public string File { get; set; } = "";

    [CommandOption("--user <USER_ID>")]
    [Description("Test user for every host (test_data.user_id).")]
    public string? User { get; set; }

    [CommandOption("--password-stdin")]
    [Description("Read the test user's password from the first line of standard input (else $REMOTETEST_APP_PASSWORD).")]
    public bool PasswordStdin { get; set; }

    [CommandOption("--insecure")]
    [Description("Do not verify certificates (verify_ssl=false).")]
    public bool Insecure { get; set; }
}

/// <summary><c>remotetest app hosts.json</c>: apptest.run. Passwords never come from the command line (shell history, ps).</summary>
public sealed class AppCommand(CliEnvironment environment) : SubmitCommand<AppSettings>(environment)
{
    protected override JsonObject BuildPayload(AppSettings settings)
    {
        if (settings.PasswordStdin && JsonInput.IsStandardInput(settings.File))
        {
            throw new CliException("--password-stdin needs the hosts from a file, not standard input");
        }
        var input = JsonInput.ReadObject(settings.File, Environment);
        var payload = JsonInput.IsPayload(input) ? input : JsonInput.Payload("apptest.run", input);
        var password = settings.PasswordStdin ? Environment.In.ReadLine()?.TrimEnd('\r', '\n') : Environment.Variable("REMOTETEST_APP_PASSWORD");
        if (settings.User is not null || !string.IsNullOrEmpty(password))
        {
            var hosts = payload["data"]?["args"]?[0] as JsonObject ?? throw new CliException($"{settings.File}: expected {{host: {{...}}}}");
            foreach (var (_, host) in hosts)
            {
                if (host is not JsonObject h)
                {
                    continue;
                }
                if (h["test_data"] is not JsonObject testData)
                {
                    h["test_data"] = testData = [];
                }
                if (settings.User is not null)
                {
                    testData["user_id"] = settings.User;
                }
                if (!string.IsNullOrEmpty(password))
                {
                    testData["password"] = password;
                }
            }
        }
        // Without a password every authenticated check fails as auth_failed after a full run: say so before submitting.
        // "******" is the masked placeholder of the original's files, not a password.
        var withoutPassword = (payload["data"]?["args"]?[0] as JsonObject ?? [])
            .Where(kv => kv.Value?["test_data"]?["password"] is not JsonValue p || p.GetValueKind() != System.Text.Json.JsonValueKind.String
                         || p.GetValue<string>() is "" or "******")
            .Select(kv => kv.Key).ToList();
        if (withoutPassword.Count > 0)
        {
            throw new CliException($"no password for the test user of {string.Join(", ", withoutPassword)}: " +
                "give it with --password-stdin or $REMOTETEST_APP_PASSWORD (never on the command line)");
        }
        if (settings.Insecure)
        {
            JsonInput.Kwargs(payload)["verify_ssl"] = false;
        }
        return payload;
    }
}
