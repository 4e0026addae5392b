using System.Reflection;
using RemoteTest.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli;

/// <summary>The command tree and the entry point shared by the executable and the in-process tests.</summary>
public static class CliApp
{
    /// <summary>Runs one command line; returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        var app = new CommandApp(new Registrar(environment));
        var error = environment.CreateErrorConsole();
        app.Configure(config =>
        {
            config.SetApplicationName("remotetest");
            config.UseAssemblyInformationalVersion();
            config.ConfigureConsole(environment.CreateOutConsole());
            config.SetExceptionHandler((ex, _) =>
            {
                var message = ex switch
                {
                    CliException or CommandAppException => ex.Message,
                    OperationCanceledException => "cancelled",
                    _ => $"unexpected error: {ex}",
                };
                error.MarkupLine($"[red]remotetest:[/] {Markup.Escape(message)}");
                return ExitCodes.Usage;
            });

            config.AddBranch("dns", dns =>
            {
                dns.SetDescription("DNS checks.");
                dns.AddCommand<DnsCheckCommand>("check")
                    .WithDescription("Which named state is each domain in? (dns.check_records)")
                    .WithExample("dns", "check", "dns_data.json", "--nameserver", "192.0.2.53");
            });
            config.AddCommand<PortCommand>("port")
                .WithDescription("Test TCP ports and TLS certificates (porttest.run).")
                .WithExample("port", "sbc.example.com:5060,5061", "192.0.2.10:443", "--tls-ports", "443,5061");
            config.AddCommand<TraceCommand>("trace")
                .WithDescription("Where on the way to a port do packets stop? TCP/UDP/ICMP traceroute, MTR with --count (path.trace).")
                .WithExample("trace", "sbc.example.com:5061", "--count", "10");
            config.AddCommand<AppCommand>("app")
                .WithDescription("Test BroadWorks applications on hosts (apptest.run).")
                .WithExample("app", "hosts.json", "--user", "user@example.com", "--password-stdin");
            config.AddCommand<RunCommand>("run")
                .WithDescription("Submit any task from a file in the API's payload form ({\"task_name\", \"data\"}).")
                .WithExample("run", "task.json");
            config.AddBranch("task", task =>
            {
                task.SetDescription("Look at submitted tasks.");
                task.AddCommand<TaskGetCommand>("get").WithDescription("Show a task's state and result (--wait to follow it).");
                task.AddCommand<TaskListCommand>("list").WithDescription("List past tasks, newest first.");
                task.AddCommand<TaskCancelCommand>("cancel").WithDescription("Cancel a queued or running task.");
            });
            config.AddCommand<DiffCommand>("diff")
                .WithDescription("What changed between two runs of a task, or since a pinned baseline (exit 1 when anything changed).")
                .WithExample("diff", "8d0c6f3e-...", "--baseline", "pre-cutover");
            config.AddCommand<WorkersCommand>("workers").WithDescription("List live workers, their locations and queues.");
            config.AddBranch("token", token =>
            {
                token.SetDescription("API tokens for the service's configuration.");
                token.AddCommand<TokenNewCommand>("new")
                    .WithDescription("Make a new API token and print it with the hash the service is configured with.")
                    .WithExample("token", "new", "--name", "ci-bot", "--scopes", "submit,read");
                token.AddCommand<TokenCreateCommand>("create")
                    .WithDescription("Create a token kept by the service (admin); it works at once and can be revoked without a restart.")
                    .WithExample("token", "create", "--name", "ci-bot", "--scopes", "submit,read", "--expires", "90d");
                token.AddCommand<TokenListCommand>("list").WithDescription("List the tokens the service accepts (admin).");
                token.AddCommand<TokenRevokeCommand>("revoke").WithDescription("Revoke a token kept by the service, at once (admin).");
            });
        });
        try
        {
            return await app.RunAsync(args.Select(a => a == "-" ? JsonInput.StandardInput : a), cancellationToken);
        }
        catch (Exception ex) when (ex is CommandAppException or CliException)
        {
            error.MarkupLine($"[red]remotetest:[/] {Markup.Escape(ex.Message)}");
            return ExitCodes.Usage;
        }
    }

    /// <summary>
    /// Gives commands the <see cref="CliEnvironment"/> of this run (so tests can run several at once in one
    /// process) and keeps what Spectre registers for itself.
    /// </summary>
    private sealed class Registrar(CliEnvironment environment) : ITypeRegistrar, ITypeResolver
    {
        private readonly Dictionary<Type, List<Func<object>>> _factories = new() { [typeof(CliEnvironment)] = [() => environment] };

        public void Register(Type service, Type implementation) => Add(service, () => Create(implementation)!);

        public void RegisterInstance(Type service, object implementation) => Add(service, () => implementation);

        public void RegisterLazy(Type service, Func<object> factory) => Add(service, factory);

        public ITypeResolver Build() => this;

        // Null lets Spectre create the type itself (settings classes, its own parameterless types).
        public object? Resolve(Type? type)
        {
            if (type is null)
            {
                return null;
            }
            if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>))
            {
                var element = type.GetGenericArguments()[0];
                var all = _factories.TryGetValue(element, out var list) ? list.Select(f => f()).ToArray() : [];
                var array = Array.CreateInstance(element, all.Length);
                Array.Copy(all, array, all.Length);
                return array;
            }
            return _factories.TryGetValue(type, out var factories) ? factories[^1]() : Create(type);
        }

        private void Add(Type service, Func<object> factory)
        {
            if (!_factories.TryGetValue(service, out var list))
            {
                _factories[service] = list = [];
            }
            list.Add(factory);
        }

        private object? Create(Type type)
        {
            foreach (var constructor in type.GetConstructors(BindingFlags.Public | BindingFlags.Instance).OrderByDescending(c => c.GetParameters().Length))
            {
                var parameters = constructor.GetParameters();
                if (parameters.All(p => _factories.ContainsKey(p.ParameterType)))
                {
                    return constructor.Invoke(parameters.Select(p => Resolve(p.ParameterType)).ToArray());
                }
            }
            return null;
        }
    }
}
