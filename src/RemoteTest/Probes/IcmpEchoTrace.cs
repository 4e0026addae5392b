using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>
/// ICMP echo traceroute (as ping with a TTL): echo requests with a rising TTL on a raw ICMP socket; routers answer
/// time exceeded, the target an echo reply. The probe number is the echo sequence number, which time-exceeded
/// messages quote back. Needs CAP_NET_RAW; <see cref="IcmpPingTrace"/> is the unprivileged fallback. IPv4.
/// </summary>
public sealed class IcmpEchoTrace : ITraceProbe
{
    private static readonly byte[] Payload = "RemoteTest path.trace..."u8.ToArray();
    private readonly Socket _icmp;
    private readonly IPAddress _target;
    private readonly ushort _identifier = (ushort)Random.Shared.Next(1, 65536);
    private readonly Lock _sendLock = new();

    public IcmpEchoTrace(TraceSockets sockets, IPAddress target)
    {
        _target = target;
        _icmp = sockets.Create(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
    }

    public void Send(int ttl, int probeId)
    {
        Span<byte> message = stackalloc byte[8 + Payload.Length];
        message[0] = IcmpPacket.EchoRequest;
        BinaryPrimitives.WriteUInt16BigEndian(message[4..], _identifier);
        BinaryPrimitives.WriteUInt16BigEndian(message[6..], (ushort)probeId);
        Payload.CopyTo(message[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], IcmpPacket.Checksum(message));
        lock (_sendLock)
        {
            _icmp.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.IpTimeToLive, ttl);
            _icmp.SendTo(message, new IPEndPoint(_target, 0));
        }
    }

    public async Task ListenAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        while (!cancellationToken.IsCancellationRequested)
        {
            var n = await TraceReceive.NextAsync(_icmp, buffer, cancellationToken);
            if (n < 0)
            {
                return;
            }
            var stamp = TimeProvider.System.GetTimestamp();
            var packet = buffer.AsSpan(0, n);
            var ihl = IcmpPacket.HeaderLength(packet);
            if (ihl < 20 || n < ihl + 8)
            {
                continue;
            }
            if (packet[ihl] == IcmpPacket.EchoReply)
            {
                if (IcmpPacket.Source(packet).Equals(_target) && BinaryPrimitives.ReadUInt16BigEndian(packet[(ihl + 4)..]) == _identifier)
                {
                    onAnswer(new TraceAnswer(BinaryPrimitives.ReadUInt16BigEndian(packet[(ihl + 6)..]), _target, TraceAnswerKind.Reached, -1, stamp));
                }
                continue;
            }
            if (!IcmpPacket.TryParseError(buffer.AsMemory(0, n), out var error) || error.QuotedProtocol != 1 || !error.QuotedDestination.Equals(_target))
            {
                continue;
            }
            var quoted = error.QuotedPayload.Span;
            if (quoted[0] != IcmpPacket.EchoRequest || BinaryPrimitives.ReadUInt16BigEndian(quoted[4..]) != _identifier)
            {
                continue;
            }
            var kind = error.Type == IcmpPacket.TimeExceeded ? TraceAnswerKind.TimeExceeded : TraceAnswerKind.Unreachable;
            onAnswer(new TraceAnswer(BinaryPrimitives.ReadUInt16BigEndian(quoted[6..]), error.From, kind,
                error.Type == IcmpPacket.TimeExceeded ? -1 : error.Code, stamp));
        }
    }

    public void Dispose() => _icmp.Dispose();
}
