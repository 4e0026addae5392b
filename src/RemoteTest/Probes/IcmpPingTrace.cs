using System.Net;
using System.Net.NetworkInformation;

namespace RemoteTest.Probes;

/// <summary>
/// The unprivileged fallback for ICMP traces: .NET's <see cref="Ping"/> with a TTL, which uses the kernel's ICMP
/// datagram sockets where <c>net.ipv4.ping_group_range</c> allows them. Works for IPv4 and IPv6.
/// </summary>
public sealed class IcmpPingTrace(IPAddress target, TimeSpan timeout) : ITraceProbe
{
    private static readonly byte[] Payload = "RemoteTest path.trace..."u8.ToArray();
    private Action<TraceAnswer>? _onAnswer;

    public void Send(int ttl, int probeId)
    {
        var onAnswer = _onAnswer;
        _ = Task.Run(async () =>
        {
            using var ping = new Ping();
            PingReply reply;
            try
            {
                reply = await ping.SendPingAsync(target, (int)timeout.TotalMilliseconds, Payload, new PingOptions(ttl, dontFragment: false));
            }
            catch (PingException)
            {
                return;
            }
            var stamp = TimeProvider.System.GetTimestamp();
            (TraceAnswerKind? kind, int code) = reply.Status switch
            {
                IPStatus.Success => (TraceAnswerKind.Reached, -1),
                IPStatus.TtlExpired or IPStatus.TimeExceeded => (TraceAnswerKind.TimeExceeded, -1),
                IPStatus.DestinationNetworkUnreachable => (TraceAnswerKind.Unreachable, 0),
                IPStatus.DestinationHostUnreachable => (TraceAnswerKind.Unreachable, 1),
                IPStatus.DestinationProhibited => (TraceAnswerKind.Unreachable, 13),
                IPStatus.DestinationPortUnreachable => (TraceAnswerKind.Unreachable, 3),
                _ => ((TraceAnswerKind?)null, 0),
            };
            if (kind is { } answer && onAnswer is not null && reply.Address is { } from)
            {
                onAnswer(new TraceAnswer(probeId, from, answer, code, stamp));
            }
        });
    }

    public async Task ListenAsync(Action<TraceAnswer> onAnswer, CancellationToken cancellationToken)
    {
        _onAnswer = onAnswer;
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
    }
}
