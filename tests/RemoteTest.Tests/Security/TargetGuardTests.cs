using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RemoteTest.Probes;
using RemoteTest.Security;

namespace RemoteTest.Tests.Security;

/// <summary>The guard's connect function: refusal before any packet, and per-address politeness.</summary>
public sealed class TargetGuardTests
{
    private static TargetGuard Guard(int perAddress, bool loopbackAllowed)
    {
        var options = new RemoteTestOptions { Targets = new TargetsOptions { MaxConnectionsPerAddress = perAddress } };
        return new TargetGuard(new TargetPolicy(options.Targets, loopbackAllowed, () => new HashSet<IPAddress>()),
            Options.Create(options.Targets), NullLogger<TargetGuard>.Instance);
    }

    [Fact]
    public async Task A_denied_address_is_refused_without_connecting()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        var guard = Guard(4, loopbackAllowed: false);

        var refused = await Assert.ThrowsAsync<TargetNotAllowedException>(() => guard.ConnectTcpAsync(endpoint, CancellationToken.None));
        Assert.Equal("target not allowed: 127.0.0.1 is loopback", refused.Message);
        Assert.Equal("not_allowed", refused.ErrorKind);
        Assert.False(listener.Pending());
        Assert.Equal(0, guard.OpenTo(IPAddress.Loopback));
    }

    [Fact]
    public async Task At_most_n_connections_to_one_address_are_open_at_once()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 64);
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        var guard = Guard(2, loopbackAllowed: true);

        using var first = await guard.ConnectTcpAsync(endpoint, CancellationToken.None);
        using var second = await guard.ConnectTcpAsync(endpoint, CancellationToken.None);
        Assert.Equal(2, guard.OpenTo(IPAddress.Loopback));

        var third = guard.ConnectTcpAsync(endpoint, CancellationToken.None);
        await Task.Delay(200);
        Assert.False(third.IsCompleted, "a third connection must wait for a slot");

        // Another address has its own slots.
        using (await guard.AcquireAsync(IPAddress.Parse("127.0.0.2"), CancellationToken.None))
        {
            Assert.Equal(1, guard.OpenTo(IPAddress.Parse("127.0.0.2")));
        }

        second.GetStream().Dispose();
        using var connected = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(connected.Socket.Connected);
        Assert.Equal(2, guard.OpenTo(IPAddress.Loopback));
    }

    [Fact]
    public async Task Waiting_for_a_slot_ends_with_the_callers_deadline()
    {
        var guard = Guard(1, loopbackAllowed: true);
        using var held = await guard.AcquireAsync(IPAddress.Loopback, CancellationToken.None);
        using var deadline = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await guard.AcquireAsync(IPAddress.Loopback, deadline.Token));
        Assert.Equal(1, guard.OpenTo(IPAddress.Loopback));
    }

    [Theory]
    [InlineData("127.0.0.1", "target not allowed: 127.0.0.1 is loopback")]
    [InlineData("[::1]", "target not allowed: ::1 is loopback")]
    [InlineData("localhost", "target not allowed: 127.0.0.1 is loopback")]
    [InlineData("api.localhost.", "target not allowed: 127.0.0.1 is loopback")]
    [InlineData("169.254.169.254", "target not allowed: 169.254.169.254 is link-local (the cloud metadata service)")]
    [InlineData("example.com", null)]
    [InlineData("192.0.2.1", null)]
    public void Targets_as_written_are_judged_before_resolution_when_they_can_be(string host, string? error) =>
        Assert.Equal(error, Guard(1, loopbackAllowed: false).CheckAsWritten(host));

    [Fact]
    public async Task The_tcp_probe_refuses_a_denied_address_as_a_result_and_sends_nothing()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var connector = new TcpConnector(TimeProvider.System, Guard(4, loopbackAllowed: false));
        using var result = await connector.ConnectAsync((IPEndPoint)listener.LocalEndpoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(result.Connected);
        Assert.Equal("target not allowed: 127.0.0.1 is loopback", result.Error);
        Assert.Equal(ErrorKind.NotAllowed, result.ErrorKind);
        Assert.False(listener.Pending());
    }

    [Fact]
    public async Task The_tcp_probe_holds_a_politeness_slot_until_its_stream_closes()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(backlog: 16);
        var endpoint = (IPEndPoint)listener.LocalEndpoint;
        var guard = Guard(1, loopbackAllowed: true);
        var connector = new TcpConnector(TimeProvider.System, guard);

        var first = await connector.ConnectAsync(endpoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(first.Connected);
        var stream = first.GetStream();
        // The only slot is taken: a second connect waits, and past its timeout it is a timeout result.
        using (var waited = await connector.ConnectAsync(endpoint, TimeSpan.FromMilliseconds(300), CancellationToken.None))
        {
            Assert.Equal(ErrorKind.Timeout, waited.ErrorKind);
        }
        await stream.DisposeAsync();
        Assert.Equal(0, guard.OpenTo(IPAddress.Loopback));
        using var second = await connector.ConnectAsync(endpoint, TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.True(second.Connected);
        Assert.Equal(1, guard.OpenTo(IPAddress.Loopback));
    }
}
