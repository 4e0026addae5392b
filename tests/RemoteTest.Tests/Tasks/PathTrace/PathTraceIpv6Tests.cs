using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using RemoteTest.Probes;

namespace RemoteTest.Tests.PathTrace;

/// <summary>
/// TCP and UDP traces to an IPv6 target through raw IPv6 sockets, on ::1 (the target is hop 1): no namespace needed,
/// only CAP_NET_RAW; skipped with the reason when raw sockets or IPv6 loopback are missing.
/// </summary>
public sealed class PathTraceIpv6Tests
{
    private static TraceSockets Sockets()
    {
        var sockets = new TraceSockets();
        Skip.IfNot(Socket.OSSupportsIPv6, "no IPv6 on this machine");
        try
        {
            using var raw = sockets.Create(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.IcmpV6);
        }
        catch (SocketException ex) when (TraceSockets.IsNotPermitted(ex))
        {
            Skip.If(true, "raw IPv6 sockets need CAP_NET_RAW (CI runs as root)");
        }
        return sockets;
    }

    private static JsonObject Data(params int[] ports) =>
        new() { ["::1"] = new JsonObject { ["ports"] = new JsonArray([.. ports.Select(p => (JsonNode)p)]) } };

    private static JsonObject Trace(JsonObject result, int port) => result["results"]!["::1"]!["ports"]![port.ToString()]!.AsObject();

    [SkippableFact]
    public async Task Tcp_trace_to_ipv6_loopback_reaches_an_open_port_and_a_closed_one_by_its_rst()
    {
        var sockets = Sockets();
        using var listener = new TcpListener(IPAddress.IPv6Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        int closed;
        using (var spare = new TcpListener(IPAddress.IPv6Loopback, 0))
        {
            spare.Start();
            closed = ((IPEndPoint)spare.LocalEndpoint).Port;
        }

        var result = await PathTraceLabTests.RunAsync(sockets, Data(open, closed), new JsonObject { ["timeout"] = 1.0, ["max_hops"] = 4 });

        foreach (var port in new[] { open, closed })
        {
            var trace = Trace(result, port);
            Assert.Equal("::1", trace["address"]!.GetValue<string>());
            Assert.Equal("reached", trace["end"]!.GetValue<string>());
            var hops = trace["hops"]!.AsArray();
            Assert.Single(hops);
            Assert.Equal("::1", hops[0]!["address"]!.GetValue<string>());
            Assert.Equal("reached", hops[0]!["answer"]!.GetValue<string>());
            Assert.True(hops[0]!["rtt_ms"]![0]!.GetValue<double>() is >= 0 and < 1000);
        }
        Assert.True(result["summary"]!["ok"]!.GetValue<bool>());
    }

    [SkippableFact]
    public async Task Udp_trace_to_ipv6_loopback_is_reached_by_a_reply_and_by_icmpv6_port_unreachable()
    {
        var sockets = Sockets();
        using var server = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        server.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        var answering = ((IPEndPoint)server.LocalEndPoint!).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        _ = Task.Run(async () =>
        {
            var buffer = new byte[1500];
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var got = await server.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Any, 0), stop.Token);
                    await server.SendToAsync(buffer.AsMemory(0, got.ReceivedBytes), got.RemoteEndPoint);
                }
            }
            catch (Exception)
            {
                // stopped
            }
        });
        int closed;
        using (var spare = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp))
        {
            spare.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            closed = ((IPEndPoint)spare.LocalEndPoint!).Port;
        }

        var result = await PathTraceLabTests.RunAsync(sockets, Data(answering, closed),
            new JsonObject { ["protocol"] = "udp", ["timeout"] = 1.0, ["max_hops"] = 4 });
        stop.Cancel();

        foreach (var port in new[] { answering, closed })
        {
            var trace = Trace(result, port);
            Assert.Equal("reached", trace["end"]!.GetValue<string>());
            Assert.Equal("::1", trace["hops"]![0]!["address"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Icmpv6_errors_read_in_icmpv4_terms_with_the_quoted_packet()
    {
        // Destination unreachable, administratively prohibited, quoting an IPv6 header (next header TCP) to 2001:db8::5.
        var message = new byte[8 + 40 + 8];
        message[0] = 1;
        message[1] = 1;
        message[8] = 0x60;
        message[8 + 6] = 6;
        IPAddress.Parse("2001:db8::5").TryWriteBytes(message.AsSpan(8 + 24), out _);
        message[48] = 0x30;

        Assert.True(IcmpPacket.TryParseErrorV6(message, IPAddress.Parse("2001:db8::1"), out var error));
        Assert.Equal(IcmpPacket.DestinationUnreachable, error.Type);
        Assert.Equal("admin-prohibited", IcmpPacket.UnreachableName(error.Code));
        Assert.Equal(6, error.QuotedProtocol);
        Assert.Equal(IPAddress.Parse("2001:db8::5"), error.QuotedDestination);
        Assert.Equal(0x30, error.QuotedPayload.Span[0]);

        message[0] = 3; // time exceeded
        Assert.True(IcmpPacket.TryParseErrorV6(message, IPAddress.Parse("2001:db8::1"), out error));
        Assert.Equal(IcmpPacket.TimeExceeded, error.Type);

        message[0] = 129; // echo reply: no error
        Assert.False(IcmpPacket.TryParseErrorV6(message, IPAddress.Parse("2001:db8::1"), out _));
    }
}
