using RemoteTest.Fixtures.Dns;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Cli;

/// <summary>A CLI test class: one in-process service, one loopback DNS server it resolves with, one CLI runner pointed at it.</summary>
public abstract class CliServiceTest : IAsyncLifetime
{
    protected DnsTestServer Dns { get; private set; } = null!;
    protected ServiceHost Host { get; private set; } = null!;
    protected CliRunner Runner { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Dns = DnsTestServer.Start()
            .A("sip.example.test", "192.0.2.10", "192.0.2.11")
            .A("xsp.example.test", "192.0.2.20");
        Host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["RemoteTest:Dns:DefaultNameservers:0"] = Dns.NameServer });
        Runner = new CliRunner(Host.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        Runner.Dispose();
        await Host.DisposeAsync();
        await Dns.DisposeAsync();
    }
}
