using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace RemoteTest.Security;

/// <summary>
/// Where probes may connect: a decision on one IP address, the one actually connected to after name resolution.
/// Denied by default: unspecified, loopback, link-local (the cloud metadata service 169.254.169.254 among them),
/// multicast, broadcast and reserved, and this host's own addresses; private ranges when <c>AllowPrivate</c> is false.
/// Configured <c>Allow</c>/<c>Deny</c> CIDR blocks override these (the longer prefix wins, a tie denies).
/// </summary>
public sealed class TargetPolicy
{
    private static readonly (IPNetwork Network, string Why)[] Builtin =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
        (IPNetwork.Parse("255.255.255.255/32"), "broadcast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
    ];

    /// <summary>
    /// Cloud metadata and platform services: they hand out credentials or control the host, and several sit in
    /// ranges that are otherwise fine to probe (100.100.100.200 in 100.64/10, 168.63.129.16 in public space).
    /// Denied even when private networks are allowed; a configured Allow block at least as specific (a /32, a /128)
    /// or <c>Targets:AllowPlatformAddresses</c> lets them through.
    /// </summary>
    private static readonly (IPNetwork Network, string Why)[] Platform =
    [
        (IPNetwork.Parse("169.254.169.254/32"), "link-local (the cloud metadata service)"),
        (IPNetwork.Parse("169.254.169.253/32"), "a cloud platform service (AWS DNS)"),
        (IPNetwork.Parse("169.254.169.123/32"), "a cloud platform service (AWS time sync)"),
        (IPNetwork.Parse("169.254.170.2/32"), "a cloud metadata service (AWS ECS task credentials)"),
        (IPNetwork.Parse("169.254.170.23/32"), "a cloud metadata service (AWS EKS pod identity)"),
        (IPNetwork.Parse("169.254.0.23/32"), "a cloud metadata service (Tencent Cloud)"),
        (IPNetwork.Parse("fd00:ec2::254/128"), "link-local (the cloud metadata service)"),
        (IPNetwork.Parse("fd00:ec2::253/128"), "a cloud platform service (AWS DNS, IPv6)"),
        (IPNetwork.Parse("fd00:ec2::123/128"), "a cloud platform service (AWS time sync, IPv6)"),
        (IPNetwork.Parse("fd00:ec2::23/128"), "a cloud metadata service (AWS EKS pod identity, IPv6)"),
        (IPNetwork.Parse("100.100.100.200/32"), "a cloud metadata service (Alibaba Cloud)"),
        (IPNetwork.Parse("168.63.129.16/32"), "a cloud platform service (Azure WireServer)"),
        (IPNetwork.Parse("192.0.0.192/32"), "a cloud metadata service (Oracle Cloud classic)"),
    ];

    private static readonly IPNetwork[] Private =
    [
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("fc00::/7"),
    ];

    private readonly IReadOnlyList<IPNetwork> _allow;
    private readonly IReadOnlyList<IPNetwork> _deny;
    private readonly bool _allowPrivate;
    private readonly bool _allowPlatform;
    private readonly Func<IReadOnlySet<IPAddress>> _ownAddresses;

    /// <param name="loopbackAllowed">True while the service is reachable only from this machine (see <see cref="ListenAddresses"/>).</param>
    /// <param name="ownAddresses">This host's addresses; default: read from its network interfaces.</param>
    public TargetPolicy(TargetsOptions options, bool loopbackAllowed, Func<IReadOnlySet<IPAddress>>? ownAddresses = null)
    {
        _allow = options.Allow.Select(c => ParseCidr(c)!.Value).ToList();
        _deny = options.Deny.Select(c => ParseCidr(c)!.Value).ToList();
        _allowPrivate = options.AllowPrivate;
        _allowPlatform = options.AllowPlatformAddresses;
        LoopbackAllowed = loopbackAllowed;
        _ownAddresses = ownAddresses ?? HostAddresses.Current;
    }

    /// <summary>Whether loopback targets are allowed because the service listens on loopback only.</summary>
    public bool LoopbackAllowed { get; }

    /// <summary>Null when probes may connect to <paramref name="address"/>; otherwise why not, as "127.0.0.1 is loopback".</summary>
    public string? Refusal(IPAddress address)
    {
        var a = Normalize(address);
        var allow = LongestMatch(_allow, a);
        var deny = LongestMatch(_deny, a);
        if (deny >= 0 && deny >= allow)
        {
            return $"{a} is denied by {RemoteTestOptions.Section}:Targets:Deny";
        }
        foreach (var (network, why) in Platform)
        {
            if (network.BaseAddress.AddressFamily == a.AddressFamily && network.Contains(a))
            {
                if (_allowPlatform || allow >= network.PrefixLength)
                {
                    return null;
                }
                return $"{a} is {why}";
            }
        }
        // An IPv6 address that carries an IPv4 address (NAT64, 6to4, Teredo, ISATAP, IPv4-compatible) reaches
        // that IPv4 address through a translator or tunnel: it is judged as that address, whatever Allow says of
        // the IPv6 form (the IPv4 address has its own Allow and Deny).
        foreach (var embedded in EmbeddedIPv4(a))
        {
            if (Refusal(embedded) is { } why)
            {
                return $"{a} embeds {embedded}: {why}";
            }
        }
        if (allow >= 0)
        {
            return null;
        }
        foreach (var (network, why) in Builtin)
        {
            if (network.Contains(a))
            {
                return why == "loopback" && LoopbackAllowed ? null : $"{a} is {why}";
            }
        }
        if (_ownAddresses().Contains(a))
        {
            return $"{a} is an address of this service's own host";
        }
        if (!_allowPrivate && Private.Any(n => n.Contains(a)))
        {
            return $"{a} is private (set {RemoteTestOptions.Section}:Targets:AllowPrivate or Allow to reach it)";
        }
        return null;
    }

    /// <summary>"target not allowed: 127.0.0.1 is loopback" — the text a denied target carries in a result.</summary>
    public static string Describe(string refusal) => $"target not allowed: {refusal}";

    /// <summary>Parses "10.0.0.0/8" or a single address ("192.0.2.1", "::1"); null when it is neither.</summary>
    public static IPNetwork? ParseCidr(string text)
    {
        var t = text.Trim();
        if (!t.Contains('/') && IPAddress.TryParse(t, out var single))
        {
            return new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }
        return IPNetwork.TryParse(t, out var network) ? network : null;
    }

    /// <summary>An IPv4 address written as IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it is.</summary>
    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4()
        : address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes())
        : address;

    private static readonly IPNetwork Nat64WellKnown = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork Nat64Local = IPNetwork.Parse("64:ff9b:1::/48");
    private static readonly IPNetwork IPv4Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork IPv4Translated = IPNetwork.Parse("::ffff:0:0:0/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork Teredo = IPNetwork.Parse("2001::/32");

    /// <summary>The IPv4 addresses an IPv6 address carries (RFC 6052, 4291, 2765, 3056, 4380, 5214); none for IPv4.</summary>
    public static IEnumerable<IPAddress> EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            yield break;
        }
        var b = address.GetAddressBytes();
        IPAddress At(int offset) => new(b.AsSpan(offset, 4));
        if (Nat64WellKnown.Contains(address) || IPv4Translated.Contains(address)
            || (IPv4Compatible.Contains(address) && !address.Equals(IPAddress.IPv6Any) && !address.Equals(IPAddress.IPv6Loopback)))
        {
            yield return At(12);
        }
        if (Nat64Local.Contains(address))
        {
            // The local-use prefix may be /48 to /96 (RFC 6052 §2.2): the /96 layout and the /48 layout (bits 48-63,
            // then 72-87, skipping the u octet) are both judged.
            var looksLike96 = b.AsSpan(6, 6).IndexOfAnyExcept((byte)0) < 0;
            var looksLike48 = b.AsSpan(11, 5).IndexOfAnyExcept((byte)0) < 0;
            if (looksLike96 || !looksLike48)
            {
                yield return At(12);
            }
            if (looksLike48 || !looksLike96)
            {
                yield return new IPAddress(new[] { b[6], b[7], b[9], b[10] });
            }
        }
        if (SixToFour.Contains(address))
        {
            yield return At(2);
        }
        if (Teredo.Contains(address))
        {
            // The server, and the client's address (stored inverted).
            yield return At(4);
            yield return new IPAddress(new[] { (byte)~b[12], (byte)~b[13], (byte)~b[14], (byte)~b[15] });
        }
        if ((b[8] | 0x02) == 0x02 && b[9] == 0 && b[10] == 0x5e && b[11] == 0xfe)
        {
            // ISATAP interface identifier: 0000:5efe or 0200:5efe, then the IPv4 address.
            yield return At(12);
        }
    }

    private static int LongestMatch(IReadOnlyList<IPNetwork> networks, IPAddress address)
    {
        var best = -1;
        foreach (var n in networks)
        {
            if (n.BaseAddress.AddressFamily == address.AddressFamily && n.Contains(address) && n.PrefixLength > best)
            {
                best = n.PrefixLength;
            }
        }
        return best;
    }
}

/// <summary>This host's own unicast addresses, read from its interfaces and cached briefly (they rarely change).</summary>
public static class HostAddresses
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);
    private static (IReadOnlySet<IPAddress> Addresses, long At)? _cache;

    public static IReadOnlySet<IPAddress> Current()
    {
        var cached = _cache;
        if (cached is { } c && Environment.TickCount64 - c.At < Refresh.TotalMilliseconds)
        {
            return c.Addresses;
        }
        HashSet<IPAddress> addresses = [];
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    var a = unicast.Address;
                    // Scope ids differ per interface but name the same address for the policy.
                    addresses.Add(a.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(a.GetAddressBytes()) : a);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // No interface list (a locked-down container): the other rules still apply.
        }
        _cache = (addresses, Environment.TickCount64);
        return addresses;
    }
}
