using System.Buffers.Binary;
using System.Net;

namespace RemoteTest.Probes;

/// <summary>What answered one trace probe.</summary>
public enum TraceAnswerKind
{
    /// <summary>A router on the way: ICMP time exceeded.</summary>
    TimeExceeded,

    /// <summary>The target itself (SYN-ACK, RST, echo reply, UDP reply or its port-unreachable for UDP).</summary>
    Reached,

    /// <summary>ICMP destination unreachable (a firewall's reject, no route, ...).</summary>
    Unreachable,
}

/// <summary>One answer, matched to the probe (by its number) that caused it.</summary>
public sealed record TraceAnswer(int ProbeId, IPAddress From, TraceAnswerKind Kind, int IcmpCode, long Timestamp);

/// <summary>
/// One path-trace probe kind (TCP SYN, UDP, ICMP echo): sends numbered probes with a TTL and reports the answers it
/// matches. Probe numbers are below 65536.
/// </summary>
public interface ITraceProbe : IDisposable
{
    /// <summary>Sends probe <paramref name="probeId"/> with IP TTL <paramref name="ttl"/>.</summary>
    void Send(int ttl, int probeId);

    /// <summary>Reads answers until cancelled, calling <paramref name="onAnswer"/> for each one that matches a probe of this trace.</summary>
    Task ListenAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken);
}

/// <summary>Parsing of ICMPv4 errors as a raw ICMP socket receives them (IP header first).</summary>
public static class IcmpPacket
{
    public const int EchoReply = 0;
    public const int DestinationUnreachable = 3;
    public const int EchoRequest = 8;
    public const int TimeExceeded = 11;
    public const int PortUnreachable = 3;

    /// <summary>An ICMP error's outer facts and the quoted original packet.</summary>
    public readonly record struct Error(IPAddress From, int Type, int Code, int QuotedProtocol, IPAddress QuotedDestination, ReadOnlyMemory<byte> QuotedPayload);

    /// <summary>The IPv4 header length of <paramref name="packet"/>, or -1 when it is no IPv4 packet.</summary>
    public static int HeaderLength(ReadOnlySpan<byte> packet) =>
        packet.Length >= 20 && packet[0] >> 4 == 4 ? (packet[0] & 0x0f) * 4 : -1;

    /// <summary>Source address of an IPv4 packet.</summary>
    public static IPAddress Source(ReadOnlySpan<byte> packet) => new(packet.Slice(12, 4));

    /// <summary>Parses a time-exceeded or destination-unreachable message; false for anything else.</summary>
    public static bool TryParseError(ReadOnlyMemory<byte> packet, out Error error)
    {
        error = default;
        var span = packet.Span;
        var ihl = HeaderLength(span);
        if (ihl < 20 || span.Length < ihl + 8 + 20 || span[9] != 1)
        {
            return false;
        }
        int type = span[ihl], code = span[ihl + 1];
        if (type is not (TimeExceeded or DestinationUnreachable))
        {
            return false;
        }
        var inner = ihl + 8;
        var innerIhl = HeaderLength(span[inner..]);
        if (innerIhl < 20 || span.Length < inner + innerIhl + 8)
        {
            return false;
        }
        error = new Error(Source(span), type, code, span[inner + 9], new IPAddress(span.Slice(inner + 16, 4)), packet[(inner + innerIhl)..]);
        return true;
    }

    /// <summary>
    /// Parses an ICMPv6 time-exceeded (3) or destination-unreachable (1) message as a raw ICMPv6 socket gives it (no
    /// IPv6 header: <paramref name="from"/> is the sender). Type and code are given in ICMPv4's terms (time exceeded 11,
    /// unreachable 3 with the matching code: no route → net-unreachable, admin-prohibited, address → host, port → port)
    /// so one reading serves both families. The quoted packet's extension headers are not walked: probes carry none.
    /// </summary>
    public static bool TryParseErrorV6(ReadOnlyMemory<byte> message, IPAddress from, out Error error)
    {
        error = default;
        var span = message.Span;
        if (span.Length < 8 + 40 + 8 || span[8] >> 4 != 6)
        {
            return false;
        }
        int type = span[0], code = span[1];
        var (v4Type, v4Code) = (type, code) switch
        {
            (3, _) => (TimeExceeded, code),
            (1, 0) => (DestinationUnreachable, 0),
            (1, 1 or 5 or 6) => (DestinationUnreachable, 13),
            (1, 3) => (DestinationUnreachable, 1),
            (1, 4) => (DestinationUnreachable, PortUnreachable),
            (1, _) => (DestinationUnreachable, 1),
            _ => (-1, -1),
        };
        if (v4Type < 0)
        {
            return false;
        }
        error = new Error(from, v4Type, v4Code, span[8 + 6], new IPAddress(span.Slice(8 + 24, 16)), message[(8 + 40)..]);
        return true;
    }

    /// <summary>The Internet checksum (RFC 1071) of <paramref name="data"/> added to <paramref name="sum"/>.</summary>
    public static ushort Checksum(ReadOnlySpan<byte> data, uint sum = 0)
    {
        for (var i = 0; i + 1 < data.Length; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (data.Length % 2 == 1)
        {
            sum += (uint)data[^1] << 8;
        }
        while (sum >> 16 != 0)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    /// <summary>The name of an ICMPv4 destination-unreachable code, as traceroute users know it.</summary>
    public static string UnreachableName(int code) => code switch
    {
        0 => "net-unreachable",
        1 => "host-unreachable",
        2 => "protocol-unreachable",
        3 => "port-unreachable",
        4 => "fragmentation-needed",
        5 => "source-route-failed",
        6 => "net-unknown",
        7 => "host-unknown",
        9 => "net-prohibited",
        10 => "host-prohibited",
        11 => "net-unreachable-for-tos",
        12 => "host-unreachable-for-tos",
        13 => "admin-prohibited",
        14 => "host-precedence-violation",
        15 => "precedence-cutoff",
        _ => $"code-{code}",
    };
}
