using System.Net;
using System.Net.Sockets;

namespace RemoteTest.Probes;

/// <summary>
/// Creates the sockets of the path-trace probes. A socket belongs to the network namespace it was created in, so
/// the namespace tests swap this for one that creates sockets inside a namespace; the service uses the process's.
/// </summary>
public class TraceSockets
{
    /// <summary>A new socket; throws <see cref="SocketException"/> (AccessDenied without CAP_NET_RAW for raw sockets).</summary>
    public virtual Socket Create(AddressFamily family, SocketType type, ProtocolType protocol) => new(family, type, protocol);

    /// <summary>The local address the kernel's routing would send from to reach <paramref name="destination"/> (no packet is sent).</summary>
    public IPAddress SourceFor(IPAddress destination)
    {
        using var probe = Create(destination.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        probe.Connect(new IPEndPoint(destination, 9)); // a UDP connect only looks the route up
        return ((IPEndPoint)probe.LocalEndPoint!).Address;
    }

    /// <summary>The raw socket that receives ICMP errors of <paramref name="family"/> (ICMP or ICMPv6).</summary>
    public Socket CreateIcmp(AddressFamily family)
    {
        var socket = Create(family, SocketType.Raw, family == AddressFamily.InterNetworkV6 ? ProtocolType.IcmpV6 : ProtocolType.Icmp);
        // Bound to the wildcard (it still hears every ICMP message): .NET reads senders (ReceiveFrom) only on bound sockets.
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
        return socket;
    }

    /// <summary>True when this process may open raw IPv4 sockets (CAP_NET_RAW); checked once at start-up for the log.</summary>
    public bool RawAllowed()
    {
        try
        {
            using var s = Create(AddressFamily.InterNetwork, SocketType.Raw, ProtocolType.Icmp);
            return true;
        }
        catch (SocketException ex) when (IsNotPermitted(ex))
        {
            return false;
        }
    }

    /// <summary>The socket error a missing CAP_NET_RAW gives (EPERM / EACCES).</summary>
    public static bool IsNotPermitted(SocketException ex) => ex.SocketErrorCode == SocketError.AccessDenied || ex.NativeErrorCode is 1 or 13;
}
