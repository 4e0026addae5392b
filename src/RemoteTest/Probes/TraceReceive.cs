using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>Receiving on a trace socket until the trace ends.</summary>
internal static class TraceReceive
{
    /// <summary>Bytes of the next packet and its sender, or -1 once cancelled or the socket is closed.</summary>
    public static async Task<(int Length, IPAddress? From)> NextFromAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            var any = socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            var got = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(any, 0), cancellationToken);
            return (got.ReceivedBytes, ((IPEndPoint)got.RemoteEndPoint).Address);
        }
        catch (OperationCanceledException)
        {
            return (-1, null);
        }
        catch (ObjectDisposedException)
        {
            return (-1, null);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
        {
            return (-1, null);
        }
    }

    /// <summary>
    /// Reads ICMP errors (time exceeded, unreachable) arriving on <paramref name="icmp"/> until the trace ends and
    /// hands each one quoting a <paramref name="protocol"/> packet sent to <paramref name="target"/> to
    /// <paramref name="onError"/> with its arrival timestamp; the quoted payload is valid during the call only.
    /// </summary>
    public static async Task IcmpErrorsAsync(Socket icmp, IPAddress target, int protocol, Action<IcmpPacket.Error, long> onError,
        CancellationToken cancellationToken)
    {
        var v6 = target.AddressFamily == AddressFamily.InterNetworkV6;
        var buffer = new byte[2048];
        while (!cancellationToken.IsCancellationRequested)
        {
            var (n, from) = await NextFromAsync(icmp, buffer, cancellationToken);
            if (n < 0)
            {
                return;
            }
            var stamp = TimeProvider.System.GetTimestamp();
            var parsed = v6 ? IcmpPacket.TryParseErrorV6(buffer.AsMemory(0, n), from!, out var error) : IcmpPacket.TryParseError(buffer.AsMemory(0, n), out error);
            if (parsed && error.QuotedProtocol == protocol && error.QuotedDestination.Equals(target))
            {
                onError(error, stamp);
            }
        }
    }

    /// <summary>Bytes of the next packet, or -1 once cancelled or the socket is closed.</summary>
    public static async Task<int> NextAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return -1;
        }
        catch (ObjectDisposedException)
        {
            return -1;
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Interrupted)
        {
            return -1;
        }
    }
}
