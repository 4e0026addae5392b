using System.Net;
using RemoteTest.Security;

namespace RemoteTest.Tests.Security;

/// <summary>
/// IPv6 forms that carry an IPv4 address are judged by that address; cloud metadata and platform addresses are
/// denied even with private networks allowed, unless allowed by setting or an exact Allow entry.
/// </summary>
public sealed class TargetAddressFormTests
{
    private static TargetPolicy Policy(bool allowPlatform = false, string[]? allow = null, bool allowPrivate = true) =>
        new(new TargetsOptions { Allow = allow ?? [], AllowPrivate = allowPrivate, AllowPlatformAddresses = allowPlatform }, false, () => new HashSet<IPAddress>());

    [Theory]
    [InlineData("64:ff9b::7f00:1", "127.0.0.1")]           // NAT64 well-known prefix → loopback
    [InlineData("64:ff9b::a9fe:a9fe", "169.254.169.254")]  // NAT64 → metadata
    [InlineData("64:ff9b:1::7f00:1", "127.0.0.1")]         // local-use NAT64, /96 layout
    [InlineData("64:ff9b:1:7f00:0:100::", "127.0.0.1")]    // local-use NAT64, /48 layout (u octet skipped)
    [InlineData("::127.0.0.1", "127.0.0.1")]               // IPv4-compatible
    [InlineData("::ffff:0:127.0.0.1", "127.0.0.1")]        // IPv4-translated (SIIT)
    [InlineData("2002:7f00:1::", "127.0.0.1")]             // 6to4
    [InlineData("2002:a9fe:a9fe::1", "169.254.169.254")]   // 6to4 → metadata
    [InlineData("2001:0:7f00:1::", "127.0.0.1")]           // Teredo server
    [InlineData("2001:0:c000:201::80ff:fffe", "127.0.0.1")] // Teredo client (inverted)
    [InlineData("2001:db8::5efe:7f00:1", "127.0.0.1")]     // ISATAP
    [InlineData("2001:db8::200:5efe:a9fe:a9fe", "169.254.169.254")]
    public void Embedded_ipv4_forms_are_judged_by_their_ipv4_address(string address, string embedded)
    {
        var refusal = Policy().Refusal(IPAddress.Parse(address));
        Assert.NotNull(refusal);
        Assert.Contains($"embeds {embedded}", refusal);
    }

    [Theory]
    [InlineData("64:ff9b::c000:20a")]   // NAT64 of 192.0.2.10, a public documentation address: allowed
    [InlineData("2002:c000:20a::1")]
    [InlineData("2001:db8::1")]
    public void Embedded_forms_of_allowed_addresses_stay_allowed(string address) =>
        Assert.Null(Policy().Refusal(IPAddress.Parse(address)));

    [Fact]
    public void Embedded_forms_of_private_addresses_follow_AllowPrivate()
    {
        Assert.Null(Policy(allowPrivate: true).Refusal(IPAddress.Parse("64:ff9b::a00:1")));
        Assert.Contains("embeds 10.0.0.1", Policy(allowPrivate: false).Refusal(IPAddress.Parse("64:ff9b::a00:1")));
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("fd00:ec2::254")]
    [InlineData("100.100.100.200")]
    [InlineData("168.63.129.16")]
    [InlineData("169.254.170.2")]
    [InlineData("::ffff:100.100.100.200")]
    [InlineData("64:ff9b::6464:64c8")]
    public void Metadata_and_platform_addresses_are_denied_even_with_private_networks_and_broad_allows(string address)
    {
        var ip = IPAddress.Parse(address);
        Assert.NotNull(Policy(allowPrivate: true).Refusal(ip));
        Assert.NotNull(Policy(allow: ["0.0.0.0/0", "::/0", "100.64.0.0/10", "fd00::/8"]).Refusal(ip));
    }

    [Theory]
    [InlineData("100.100.100.200")]
    [InlineData("168.63.129.16")]
    [InlineData("fd00:ec2::254")]
    public void The_documented_setting_or_an_exact_allow_lets_platform_addresses_through(string address)
    {
        var ip = IPAddress.Parse(address);
        Assert.Null(Policy(allowPlatform: true).Refusal(ip));
        Assert.Null(Policy(allow: [address]).Refusal(ip));
    }
}
