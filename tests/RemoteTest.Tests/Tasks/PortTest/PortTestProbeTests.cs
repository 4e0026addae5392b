using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using RemoteTest.Fixtures;
using RemoteTest.Probes;

namespace RemoteTest.Tests;

/// <summary>The probes porttest.run is built from: host resolution, TCP connect, and their error texts.</summary>
public sealed class PortTestProbeTests
{
    private static readonly TcpConnector Connector = new(TimeProvider.System);

    [Fact]
    public async Task Connect_to_a_listening_port_is_open_with_a_time()
    {
        await using var server = OpenPortListener.Start();
        using var result = await Connector.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(result.Connected, result.Error);
        Assert.Null(result.Error);
        Assert.Null(result.ErrorKind);
        Assert.True(result.Elapsed > TimeSpan.Zero);
        Assert.Equal(server.EndPoint, result.Endpoint);
    }

    [Fact]
    public async Task Connect_to_a_closed_port_is_refused()
    {
        using var closed = new ClosedPort();
        using var result = await Connector.ConnectAsync(closed.EndPoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(result.Connected);
        Assert.Equal("connection refused", result.Error);
        Assert.Equal(ErrorKind.Refused, result.ErrorKind);
    }

    [Fact]
    public async Task Connect_to_a_hanging_port_times_out_after_the_timeout()
    {
        using var hanging = await HangingPort.OpenAsync();
        using var result = await Connector.ConnectAsync(hanging.EndPoint, TimeSpan.FromSeconds(0.5), CancellationToken.None);
        Assert.False(result.Connected);
        Assert.Equal("timed out after 0.5 s", result.Error);
        Assert.Equal(ErrorKind.Timeout, result.ErrorKind);
        Assert.True(result.Elapsed >= TimeSpan.FromSeconds(0.45), $"gave up after {result.Elapsed}");
    }

    [Fact]
    public async Task Cancelling_the_task_throws_instead_of_reporting_a_timeout()
    {
        using var hanging = await HangingPort.OpenAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Connector.ConnectAsync(hanging.EndPoint, TimeSpan.FromSeconds(30), cancel.Token));
    }

    [Fact]
    public async Task Connect_over_IPv6_loopback()
    {
        await using var server = OpenPortListener.Start(IPAddress.IPv6Loopback);
        using var result = await Connector.ConnectAsync(server.EndPoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(result.Connected, result.Error);
    }

    // Unreachable networks cannot be made on loopback without touching the machine's routes: the wording is checked here.
    [Theory]
    [InlineData(SocketError.NetworkUnreachable, "network unreachable", "unreachable")]
    [InlineData(SocketError.HostUnreachable, "host unreachable", "unreachable")]
    [InlineData(SocketError.ConnectionRefused, "connection refused", "refused")]
    [InlineData(SocketError.TimedOut, "timed out (no answer from the host)", "timeout")]
    [InlineData(SocketError.AddressFamilyNotSupported, "IPv6 is not available on this machine", "unreachable")]
    [InlineData(SocketError.AccessDenied, "permission denied (a local firewall rule?)", "unreachable")]
    [InlineData(SocketError.ProtocolNotSupported, "connect failed: raw message", "unreachable")]
    public void Socket_errors_are_told_in_words_with_a_kind(SocketError code, string error, string kind)
    {
        var (text, errorKind) = TcpConnector.Describe(code, "raw message", new IPEndPoint(IPAddress.Parse("2001:db8::1"), 443));
        Assert.Equal(error, text);
        Assert.Equal(kind, errorKind);
    }

    [Fact]
    public async Task An_IP_literal_resolves_to_itself_without_a_lookup()
    {
        var resolver = new TableResolver();
        var resolution = await HostResolution.ResolveAsync(resolver, "::1", TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None);
        Assert.True(resolution.Resolved);
        Assert.Equal([IPAddress.IPv6Loopback], resolution.Addresses);
        Assert.Equal(0, resolver.Lookups);
    }

    [Fact]
    public async Task Localhost_resolves_through_the_system_resolver()
    {
        var resolution = await HostResolution.ResolveAsync(new SystemHostResolver(), "localhost", TimeSpan.FromSeconds(5), TimeProvider.System, CancellationToken.None);
        Assert.True(resolution.Resolved, resolution.Error);
        Assert.Contains(resolution.Addresses, IPAddress.IsLoopback);
    }

    [Fact]
    public async Task An_unknown_name_is_host_not_found()
    {
        var resolution = await HostResolution.ResolveAsync(new TableResolver(), "nowhere.test", TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None);
        Assert.False(resolution.Resolved);
        Assert.Equal("host not found: nowhere.test", resolution.Error);
        Assert.Equal(ErrorKind.Dns, resolution.ErrorKind);
        Assert.Empty(resolution.Addresses);
    }

    [Fact]
    public async Task A_resolver_that_never_answers_times_out()
    {
        var resolution = await HostResolution.ResolveAsync(new TableResolver { Hang = true }, "slow.test", TimeSpan.FromSeconds(0.2), TimeProvider.System, CancellationToken.None);
        Assert.Equal("DNS lookup of slow.test timed out after 0.2 s", resolution.Error);
        Assert.Equal(ErrorKind.Dns, resolution.ErrorKind);
    }

    [Fact]
    public async Task Duplicate_addresses_are_tried_once()
    {
        var resolver = new TableResolver { ["twice.test"] = [IPAddress.Loopback, IPAddress.Loopback, IPAddress.IPv6Loopback] };
        var resolution = await HostResolution.ResolveAsync(resolver, "twice.test", TimeSpan.FromSeconds(1), TimeProvider.System, CancellationToken.None);
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], resolution.Addresses);
    }
}

/// <summary>A resolver with a fixed table, standing in for DNS (tests never query a real DNS server).</summary>
public sealed class TableResolver : IHostResolver
{
    private readonly Dictionary<string, IPAddress[]> _table = new(StringComparer.OrdinalIgnoreCase);
    private int _lookups;

    public IPAddress[] this[string name]
    {
        set => _table[name] = value;
    }

    /// <summary>Never answer, like a resolver behind a dropped UDP path.</summary>
    public bool Hang { get; init; }

    public int Lookups => Volatile.Read(ref _lookups);

    public async Task<IPAddress[]> GetHostAddressesAsync(string host, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _lookups);
        if (Hang)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        return _table.TryGetValue(host, out var addresses) ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }
}
