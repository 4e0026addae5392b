using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>
/// UDP traceroute to one port (e.g. SIP 5060): each probe is a datagram from its own UDP socket (its source port names
/// the probe) with a rising TTL; routers answer ICMP time exceeded, the target a UDP reply or ICMP port unreachable
/// (both count as reached), a firewall ICMP unreachable. Errors are read on a raw ICMP or ICMPv6 socket (CAP_NET_RAW).
/// </summary>
public sealed class UdpTrace : ITraceProbe
{
    private static readonly byte[] Payload = new byte[32]; // traceroute's default size; empty datagrams are dropped by some filters
    private readonly TraceSockets _sockets;
    private readonly IPEndPoint _target;
    private readonly IPAddress _source;
    private readonly Socket _icmp;
    private readonly ConcurrentDictionary<int, (int ProbeId, Socket Socket)> _byPort = new();
    private Action<TraceAnswer>? _onAnswer;
    private CancellationToken _listening;

    public UdpTrace(TraceSockets sockets, IPEndPoint target)
    {
        _sockets = sockets;
        _target = target;
        _source = sockets.SourceFor(target.Address);
        _icmp = sockets.CreateIcmp(target.AddressFamily);
    }

    public void Send(int ttl, int probeId)
    {
        var socket = _sockets.Create(_target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(_source, 0));
        socket.Ttl = (short)ttl; // IP_TTL, or IPV6_UNICAST_HOPS on an IPv6 socket
        socket.Connect(_target);
        _byPort[((IPEndPoint)socket.LocalEndPoint!).Port] = (probeId, socket);
        socket.Send(Payload);
        if (_onAnswer is { } onAnswer)
        {
            _ = ReadReplyAsync(socket, probeId, onAnswer, _listening);
        }
    }

    public async Task ListenAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken)
    {
        _onAnswer = onAnswer;
        _listening = cancellationToken;
        await TraceReceive.IcmpErrorsAsync(_icmp, _target.Address, 17, (error, stamp) =>
        {
            var quoted = error.QuotedPayload.Span;
            if (BinaryPrimitives.ReadUInt16BigEndian(quoted[2..]) != _target.Port
                || !_byPort.TryGetValue(BinaryPrimitives.ReadUInt16BigEndian(quoted), out var probe))
            {
                return;
            }
            var kind = error.Type == IcmpPacket.TimeExceeded ? TraceAnswerKind.TimeExceeded
                : error.Code == IcmpPacket.PortUnreachable && error.From.Equals(_target.Address) ? TraceAnswerKind.Reached
                : TraceAnswerKind.Unreachable;
            onAnswer(new TraceAnswer(probe.ProbeId, error.From, kind, error.Type == IcmpPacket.TimeExceeded ? -1 : error.Code, stamp));
        }, cancellationToken);
    }

    /// <summary>A service on the port that answers (a SIP server does) shows the target was reached.</summary>
    private async Task ReadReplyAsync(Socket socket, int probeId, Action<TraceAnswer> onAnswer, CancellationToken cancellationToken)
    {
        var buffer = new byte[1500];
        while (true)
        {
            try
            {
                await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
                onAnswer(new TraceAnswer(probeId, _target.Address, TraceAnswerKind.Reached, -1, TimeProvider.System.GetTimestamp()));
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable)
            {
                // The kernel's view of an ICMP error; the raw ICMP socket reports it with its sender and code.
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    public void Dispose()
    {
        _icmp.Dispose();
        foreach (var (_, probe) in _byPort)
        {
            probe.Socket.Dispose();
        }
    }
}
