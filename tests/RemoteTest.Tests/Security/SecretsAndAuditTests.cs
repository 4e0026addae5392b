using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RemoteTest.Security;
using RemoteTest.Store;
using RemoteTest.Tasks;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Secrets at rest: the raw storage never holds a password, nor do logs, answers or queue messages; the key
/// ring can be shared through a directory and encrypted with a certificate. And the audit log of who did what.
/// </summary>
public sealed class SecretsAndAuditTests : IDisposable
{
    private const string Password = "Pw-5ecret-7c1e-not-for-disk";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "remotetest-secrets-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static JsonObject SecretPayload() => new()
    {
        ["task_name"] = "test.secret_holding",
        ["data"] = new JsonObject { ["args"] = new JsonArray(new JsonObject { ["user"] = "admin", ["password"] = Password }) },
    };

    [Fact]
    public async Task Raw_sqlite_storage_logs_answers_and_queue_messages_never_hold_the_password()
    {
        var task = new SecretHoldingTask();
        var data = Path.Combine(_root, "data");
        string id;
        await using (var host = await ServiceHost.StartAsync(new Dictionary<string, string?>
        {
            ["RemoteTest:Storage:Kind"] = "embedded",
            ["RemoteTest:DataDirectory"] = data,
        }, s => s.AddSingleton<IRemoteTask>(task)))
        {
            id = await host.SubmitAsync(SecretPayload());
            await task.Started.WaitAsync(TimeSpan.FromSeconds(30));

            // In flight: stored encrypted, the worker has it in memory only.
            RawStorage.AssertNoSecretInFiles(data, Password);
            var stored = (await host.Services.GetRequiredService<ITaskStore>().GetAsync(Guid.Parse(id), CancellationToken.None))!;
            Assert.Contains("$protected", stored.Arguments);
            var running = await host.Http.GetStringAsync($"/task/{id}");
            Assert.DoesNotContain(Password, running);

            // A queue message is the task id and a trace parent, nothing else (QueueMessage has no other field).
            Assert.Equal(["Queue", "TaskId", "TraceParent"], typeof(RemoteTest.Engine.QueueMessage).GetProperties().Select(p => p.Name).Order(StringComparer.Ordinal));

            task.Release();
            var done = await host.WaitAsync(id);
            Assert.Equal("SUCCESS", done["state"]!.GetValue<string>());
            Assert.Equal(Password.Length, done["result"]!["password_length"]!.GetValue<int>());
            Assert.DoesNotContain(Password, done.ToJsonString());

            stored = (await host.Services.GetRequiredService<ITaskStore>().GetAsync(Guid.Parse(id), CancellationToken.None))!;
            Assert.Contains(ArgumentSecrets.Mask, stored.Arguments);
            Assert.DoesNotContain("$protected", stored.Arguments);
            Assert.DoesNotContain(Password, host.Logs.All);
            Assert.Contains("keys that encrypt task secrets are stored unencrypted", host.Logs.All);
        }
        RawStorage.AssertNoSecretInFiles(data, Password);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(data, "keys")));
        }
    }

    // PostgreSQL rows and Redis keys: RawStorage.AssertNoSecret takes the raw bytes of rows and keys, for the scale-out backends' tests.

    [Fact]
    public async Task A_key_ring_directory_is_shared_by_nodes_and_a_certificate_encrypts_it_at_rest()
    {
        var shared = Path.Combine(_root, "keyring");
        var pfx = Path.Combine(_root, "keyring.pfx");
        Directory.CreateDirectory(_root);
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=RemoteTest key ring", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pfx, "pfx-pass"));
        }
        Dictionary<string, string?> Node(string name) => new()
        {
            ["RemoteTest:Storage:Kind"] = "embedded",
            ["RemoteTest:DataDirectory"] = Path.Combine(_root, name),
            ["RemoteTest:KeyRing:Directory"] = shared,
            ["RemoteTest:KeyRing:CertificatePath"] = pfx,
            ["RemoteTest:KeyRing:CertificatePassword"] = "pfx-pass",
        };

        string protectedArguments;
        await using (var first = await ServiceHost.StartAsync(Node("a")))
        {
            protectedArguments = first.Services.GetRequiredService<ArgumentSecrets>().Protect(new JsonObject { ["password"] = Password }).ToJsonString();
            Assert.DoesNotContain("stored unencrypted", first.Logs.All);
        }
        var keyFile = Assert.Single(Directory.GetFiles(shared, "*.xml"));
        var xml = File.ReadAllText(keyFile);
        Assert.Contains("encryptedSecret", xml);
        Assert.DoesNotContain("<value>", xml);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "a"), "*.xml", SearchOption.AllDirectories));

        await using (var second = await ServiceHost.StartAsync(Node("b")))
        {
            var plain = second.Services.GetRequiredService<ArgumentSecrets>().Unprotect(JsonNode.Parse(protectedArguments)!);
            Assert.Equal(Password, plain["password"]!.GetValue<string>());
        }
        RawStorage.AssertNoSecretInFiles(_root, Password);
    }

    [Fact]
    public void A_key_ring_certificate_that_cannot_be_loaded_stops_start_up()
    {
        var ex = Assert.Throws<StartupException>(() => Program.Build(["--urls", "http://127.0.0.1:0"], b => b.Configuration.AddInMemoryCollection(
            new Dictionary<string, string?> { ["RemoteTest:Storage:Kind"] = "memory", ["RemoteTest:KeyRing:CertificatePath"] = Path.Combine(_root, "missing.pfx") })));
        Assert.StartsWith("RemoteTest:KeyRing:CertificatePath: cannot load", ex.Message);
    }

    [Fact]
    public async Task A_fan_out_is_one_audit_event_naming_the_group_and_its_children_without_secrets()
    {
        var tokens = new TestTokens();
        var task = new SecretHoldingTask();
        task.Release();
        var settings = tokens.Settings();
        settings["RemoteTest:Cluster:AllowQueuesWithoutWorkers"] = "true";   // "fra" has no worker here; its child waits
        await using var host = await ServiceHost.StartAsync(settings, s => s.AddSingleton<IRemoteTask>(task));

        var payload = SecretPayload();
        payload["queues"] = new JsonArray("default", "fra");
        using var accepted = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", tokens.Alice, payload.ToJsonString()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var answer = (await accepted.Content.ReadFromJsonAsync<JsonObject>())!;
        var group = answer["task_id"]!.GetValue<string>();
        var children = answer["tasks"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());

        var audit = host.Logs.Entries.Where(e => e.Category == AuditLog.Category).ToList();
        Assert.DoesNotContain(audit, e => e.EventId.Name == "TaskSubmitted");
        var submitted = Assert.Single(audit, e => e.EventId.Name == "GroupSubmitted");
        Assert.Equal("alice", submitted.Properties["Principal"]);
        Assert.Equal("127.0.0.1", submitted.Properties["RemoteAddress"]);
        Assert.Equal(group, submitted.Properties["GroupId"]!.ToString());
        Assert.Equal("test.secret_holding", submitted.Properties["TaskName"]);
        Assert.Equal("default,fra", submitted.Properties["Queues"]);
        Assert.Equal($"default={children["default"]},fra={children["fra"]}", submitted.Properties["Tasks"]);
        Assert.Contains("******", (string)submitted.Properties["Arguments"]!);
        Assert.Contains("\"user\":\"admin\"", (string)submitted.Properties["Arguments"]!);
        Assert.Contains(group, submitted.Message);
        Assert.Contains(children["fra"], submitted.Message);

        // Each child is still one PENDING task event, and the one with a worker runs.
        host.Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", tokens.Alice);
        Assert.Equal("SUCCESS", (await host.WaitAsync(children["default"]))["state"]!.GetValue<string>());
        Assert.All(children.Values, id => Assert.Single(host.Logs.Entries, e => e.Category == "RemoteTest.TaskEvents" && e.EventId.Name == "TaskSubmitted" && e.Message.Contains(id)));
        Assert.DoesNotContain(Password, host.Logs.All);
        Assert.DoesNotContain(tokens.Alice, host.Logs.All);
    }

    [Fact]
    public async Task The_audit_log_names_who_submitted_what_from_where_without_secrets()
    {
        var tokens = new TestTokens();
        var task = new SecretHoldingTask();
        task.Release();
        await using var host = await ServiceHost.StartAsync(tokens.Settings(), s => s.AddSingleton<IRemoteTask>(task));

        using var accepted = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", tokens.Alice, SecretPayload().ToJsonString()));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var id = (await accepted.Content.ReadFromJsonAsync<JsonObject>())!["task_id"]!.GetValue<string>();
        using var rejected = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", tokens.Bob, "{\"task_name\": \"nope\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, rejected.StatusCode);
        using var forbidden = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Post, "/task", tokens.Reader, SecretPayload().ToJsonString()));
        using var unauthorized = await host.Http.SendAsync(TestTokens.Request(HttpMethod.Get, "/tasks", "rt_wrong"));

        var audit = host.Logs.Entries.Where(e => e.Category == AuditLog.Category).ToList();
        var submitted = Assert.Single(audit, e => e.EventId.Name == "TaskSubmitted");
        Assert.Equal("alice", submitted.Properties["Principal"]);
        Assert.Equal("127.0.0.1", submitted.Properties["RemoteAddress"]);
        Assert.Equal(id, submitted.Properties["TaskId"]!.ToString());
        Assert.Equal("test.secret_holding", submitted.Properties["TaskName"]);
        Assert.Equal("default", submitted.Properties["Queue"]);
        Assert.Contains("******", (string)submitted.Properties["Arguments"]!);
        Assert.Contains("\"user\":\"admin\"", (string)submitted.Properties["Arguments"]!);

        var refused = Assert.Single(audit, e => e.EventId.Name == "SubmissionRejected");
        Assert.Equal("bob", refused.Properties["Principal"]);
        Assert.Equal("task_name", refused.Properties["Field"]);
        Assert.Equal(400, refused.Properties["Status"]);
        var scope = Assert.Single(audit, e => e.EventId.Name == "Forbidden");
        Assert.Equal("reader", scope.Properties["Principal"]);
        Assert.Equal("submit", scope.Properties["Scope"]);
        var failed = Assert.Single(audit, e => e.EventId.Name == "AuthenticationFailed");
        Assert.Equal("/tasks", failed.Properties["Path"]);
        Assert.DoesNotContain("rt_wrong", host.Logs.All);
        Assert.DoesNotContain(tokens.Alice, host.Logs.All);
        Assert.DoesNotContain(Password, host.Logs.All);
    }
}
