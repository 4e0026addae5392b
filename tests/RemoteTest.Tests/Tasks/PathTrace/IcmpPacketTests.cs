using System.Net;
using RemoteTest.Probes;

namespace RemoteTest.Tests.PathTrace;

/// <summary>Parsing ICMP errors as a raw socket hands them over, without a network.</summary>
public sealed class IcmpPacketTests
{
    /// <summary>An IPv4 header (20 bytes) with the given protocol and addresses.</summary>
    private static byte[] Ip(int protocol, string source, string destination, int payloadLength)
    {
        var header = new byte[20];
        header[0] = 0x45;
        header[2] = (byte)((20 + payloadLength) >> 8);
        header[3] = (byte)(20 + payloadLength);
        header[8] = 64;
        header[9] = (byte)protocol;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(header, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(header, 16);
        return header;
    }

    private static byte[] IcmpError(int type, int code, string from, string quotedDestination, byte[] quotedPayload)
    {
        var inner = Ip(6, "10.0.0.2", quotedDestination, quotedPayload.Length).Concat(quotedPayload).ToArray();
        var icmp = new byte[] { (byte)type, (byte)code, 0, 0, 0, 0, 0, 0 }.Concat(inner).ToArray();
        return Ip(1, from, "10.0.0.2", icmp.Length).Concat(icmp).ToArray();
    }

    [Fact]
    public void A_time_exceeded_names_its_sender_and_quotes_the_probe()
    {
        var quoted = new byte[] { 0xc0, 0x01, 0x01, 0xbb, 0xab, 0xcd, 0x00, 0x07 };
        var packet = IcmpError(IcmpPacket.TimeExceeded, 0, "192.0.2.1", "198.51.100.9", quoted);

        Assert.True(IcmpPacket.TryParseError(packet, out var error));
        Assert.Equal(IPAddress.Parse("192.0.2.1"), error.From);
        Assert.Equal(IcmpPacket.TimeExceeded, error.Type);
        Assert.Equal(6, error.QuotedProtocol);
        Assert.Equal(IPAddress.Parse("198.51.100.9"), error.QuotedDestination);
        Assert.Equal(quoted, error.QuotedPayload.ToArray());
    }

    [Fact]
    public void Echo_replies_truncated_quotes_and_non_ipv4_are_not_errors()
    {
        var reply = Ip(1, "192.0.2.1", "10.0.0.2", 8).Concat(new byte[8]).ToArray();
        Assert.False(IcmpPacket.TryParseError(reply, out _));
        var truncated = IcmpError(IcmpPacket.DestinationUnreachable, 13, "192.0.2.1", "198.51.100.9", new byte[8])[..40];
        Assert.False(IcmpPacket.TryParseError(truncated, out _));
        var v6 = new byte[60];
        v6[0] = 0x60;
        Assert.False(IcmpPacket.TryParseError(v6, out _));
    }

    [Theory]
    [InlineData(0, "net-unreachable")]
    [InlineData(1, "host-unreachable")]
    [InlineData(3, "port-unreachable")]
    [InlineData(10, "host-prohibited")]
    [InlineData(13, "admin-prohibited")]
    [InlineData(99, "code-99")]
    public void Unreachable_codes_have_the_names_traceroute_users_know(int code, string name) =>
        Assert.Equal(name, IcmpPacket.UnreachableName(code));

    [Fact]
    public void The_checksum_is_rfc_1071s()
    {
        // RFC 1071's example words 0x0001 0xf203 0xf4f5 0xf6f7 sum to 0xddf2 (one's complement 0x220d).
        Assert.Equal(0x220d, IcmpPacket.Checksum(new byte[] { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 }));
    }
}
