using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>
/// TCP SYN traceroute to one port (as tcptraceroute does): SYNs built here and sent on a raw TCP socket with a rising
/// TTL; routers answer ICMP time exceeded (read on a raw ICMP socket), the target SYN-ACK or RST (read on the raw TCP
/// socket). The probe number rides in the SYN's sequence number, which both kinds of answer quote back. The source
/// port is reserved by a bound (never listening) TCP socket, so the kernel resets the SYN-ACKs and no other
/// connection shares the port. IPv4 and IPv6 (a raw IPv6 socket gives no IP header: the sender comes with the
/// datagram, and ICMPv6 errors are read in ICMPv4's terms); needs CAP_NET_RAW.
/// </summary>
public sealed class TcpSynTrace : ITraceProbe
{
    private const int HeaderLength = 24; // 20 + the MSS option: some firewalls drop SYNs without options
    private readonly Socket _raw;
    private readonly Socket _icmp;
    private readonly Socket _reservation;
    private readonly IPAddress _source;
    private readonly IPEndPoint _target;
    private readonly ushort _sourcePort;
    private readonly ushort _nonce = (ushort)Random.Shared.Next(1, 65536);
    private readonly Lock _sendLock = new();
    private readonly bool _v6;

    public TcpSynTrace(TraceSockets sockets, IPEndPoint target)
    {
        _target = target;
        _source = sockets.SourceFor(target.Address);
        var family = target.AddressFamily;
        _v6 = family == AddressFamily.InterNetworkV6;
        _raw = sockets.Create(family, SocketType.Raw, ProtocolType.Tcp);
        try
        {
            _icmp = sockets.CreateIcmp(family);
            _reservation = sockets.Create(family, SocketType.Stream, ProtocolType.Tcp);
            _reservation.Bind(new IPEndPoint(_source, 0));
            _sourcePort = (ushort)((IPEndPoint)_reservation.LocalEndPoint!).Port;
            _raw.Bind(new IPEndPoint(_source, 0));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Send(int ttl, int probeId)
    {
        Span<byte> segment = stackalloc byte[HeaderLength];
        var seq = Sequence(probeId);
        BinaryPrimitives.WriteUInt16BigEndian(segment, _sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(segment[2..], (ushort)_target.Port);
        BinaryPrimitives.WriteUInt32BigEndian(segment[4..], seq);
        segment[12] = (HeaderLength / 4) << 4;
        segment[13] = 0x02; // SYN
        BinaryPrimitives.WriteUInt16BigEndian(segment[14..], 64240);
        segment[20] = 2; // MSS option
        segment[21] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(segment[22..], 1460);
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], Checksum(segment));
        lock (_sendLock)
        {
            _raw.Ttl = (short)ttl; // IP_TTL, or IPV6_UNICAST_HOPS on an IPv6 socket
            _raw.SendTo(segment, new IPEndPoint(_target.Address, 0));
        }
    }

    public Task ListenAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken) =>
        Task.WhenAll(ListenTcpAsync(onAnswer, cancellationToken), ListenIcmpAsync(onAnswer, cancellationToken));

    private uint Sequence(int probeId) => (uint)_nonce << 16 | (uint)probeId;

    private bool TryProbeId(uint seq, out int probeId)
    {
        probeId = (int)(seq & 0xffff);
        return seq >> 16 == _nonce;
    }

    private async Task ListenTcpAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken)
    {
        var buffer = new byte[2048];
        while (!cancellationToken.IsCancellationRequested)
        {
            var (n, from) = await TraceReceive.NextFromAsync(_raw, buffer, cancellationToken);
            if (n < 0)
            {
                return;
            }
            var stamp = TimeProvider.System.GetTimestamp();
            var packet = buffer.AsSpan(0, n);
            var ihl = _v6 ? 0 : IcmpPacket.HeaderLength(packet);
            var sender = _v6 ? from : ihl >= 20 && n >= ihl + 20 ? IcmpPacket.Source(packet) : null;
            if (ihl < 0 || n < ihl + 20 || sender is null || !sender.Equals(_target.Address))
            {
                continue;
            }
            var tcp = packet[ihl..];
            var flags = tcp[13];
            if (BinaryPrimitives.ReadUInt16BigEndian(tcp) != _target.Port || BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]) != _sourcePort
                || (flags & 0x04) == 0 && (flags & 0x12) != 0x12) // RST, or SYN+ACK
            {
                continue;
            }
            if (TryProbeId(BinaryPrimitives.ReadUInt32BigEndian(tcp[8..]) - 1, out var id))
            {
                onAnswer(new TraceAnswer(id, _target.Address, TraceAnswerKind.Reached, -1, stamp));
            }
        }
    }

    private Task ListenIcmpAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken) =>
        TraceReceive.IcmpErrorsAsync(_icmp, _target.Address, 6, (error, stamp) =>
        {
            var quoted = error.QuotedPayload.Span;
            if (BinaryPrimitives.ReadUInt16BigEndian(quoted) != _sourcePort || BinaryPrimitives.ReadUInt16BigEndian(quoted[2..]) != _target.Port
                || !TryProbeId(BinaryPrimitives.ReadUInt32BigEndian(quoted[4..]), out var id))
            {
                return;
            }
            var kind = error.Type == IcmpPacket.TimeExceeded ? TraceAnswerKind.TimeExceeded : TraceAnswerKind.Unreachable;
            onAnswer(new TraceAnswer(id, error.From, kind, error.Type == IcmpPacket.TimeExceeded ? -1 : error.Code, stamp));
        }, cancellationToken);

    private ushort Checksum(ReadOnlySpan<byte> segment)
    {
        if (_v6)
        {
            // RFC 8200 §8.1: source, destination, upper-layer length (32 bits), three zero bytes, next header.
            Span<byte> pseudo6 = stackalloc byte[40];
            _source.TryWriteBytes(pseudo6, out _);
            _target.Address.TryWriteBytes(pseudo6[16..], out _);
            BinaryPrimitives.WriteUInt32BigEndian(pseudo6[32..], (uint)segment.Length);
            pseudo6[39] = 6;
            uint sum6 = 0;
            for (var i = 0; i < 40; i += 2)
            {
                sum6 += BinaryPrimitives.ReadUInt16BigEndian(pseudo6[i..]);
            }
            return IcmpPacket.Checksum(segment, sum6);
        }
        Span<byte> pseudo = stackalloc byte[12];
        _source.TryWriteBytes(pseudo, out _);
        _target.Address.TryWriteBytes(pseudo[4..], out _);
        pseudo[9] = 6;
        BinaryPrimitives.WriteUInt16BigEndian(pseudo[10..], (ushort)segment.Length);
        uint sum = 0;
        for (var i = 0; i < 12; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(pseudo[i..]);
        }
        return IcmpPacket.Checksum(segment, sum);
    }

    public void Dispose()
    {
        _raw?.Dispose();
        _icmp?.Dispose();
        _reservation?.Dispose();
    }
}
