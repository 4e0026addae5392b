using Microsoft.Extensions.Configuration;
using System.Net;
using RemoteTest.Security;

namespace RemoteTest.Tests.Security;

/// <summary>The network-target policy on single addresses: defaults, private ranges, Allow/Deny, own addresses.</summary>
public sealed class TargetPolicyTests
{
    private static readonly IReadOnlySet<IPAddress> NoOwnAddresses = new HashSet<IPAddress>();

    private static TargetPolicy Policy(bool loopbackAllowed = false, string[]? allow = null, string[]? deny = null, bool allowPrivate = true,
        IReadOnlySet<IPAddress>? own = null) =>
        new(new TargetsOptions { Allow = allow ?? [], Deny = deny ?? [], AllowPrivate = allowPrivate }, loopbackAllowed, () => own ?? NoOwnAddresses);

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1 is loopback")]
    [InlineData("127.1.2.3", "127.1.2.3 is loopback")]
    [InlineData("::1", "::1 is loopback")]
    [InlineData("::ffff:127.0.0.1", "127.0.0.1 is loopback")]
    [InlineData("169.254.169.254", "169.254.169.254 is link-local (the cloud metadata service)")]
    [InlineData("169.254.10.1", "169.254.10.1 is link-local")]
    [InlineData("fe80::1", "fe80::1 is link-local")]
    [InlineData("0.0.0.0", "0.0.0.0 is unspecified")]
    [InlineData("::", ":: is unspecified")]
    [InlineData("224.0.0.251", "224.0.0.251 is multicast")]
    [InlineData("ff02::1", "ff02::1 is multicast")]
    [InlineData("255.255.255.255", "255.255.255.255 is broadcast")]
    [InlineData("240.0.0.1", "240.0.0.1 is reserved")]
    public void Default_policy_denies(string address, string reason)
    {
        Assert.Equal(reason, Policy().Refusal(IPAddress.Parse(address)));
        Assert.Equal("target not allowed: " + reason, TargetPolicy.Describe(reason));
    }

    [Theory]
    [InlineData("192.0.2.10")]
    [InlineData("2001:db8::1")]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.1.1")]
    [InlineData("172.16.0.1")]
    public void Public_and_by_default_private_addresses_are_allowed(string address) =>
        Assert.Null(Policy().Refusal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("10.1.2.3")]
    [InlineData("172.31.255.1")]
    [InlineData("192.168.1.1")]
    [InlineData("100.64.0.1")]
    [InlineData("fd12::1")]
    public void Private_ranges_are_denied_when_configured(string address) =>
        Assert.Contains("is private", Policy(allowPrivate: false).Refusal(IPAddress.Parse(address)));

    [Fact]
    public void Loopback_is_allowed_while_the_service_listens_on_loopback_only_but_metadata_never()
    {
        var policy = Policy(loopbackAllowed: true);
        Assert.Null(policy.Refusal(IPAddress.Loopback));
        Assert.Null(policy.Refusal(IPAddress.IPv6Loopback));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("169.254.169.254")));
    }

    [Fact]
    public void The_hosts_own_addresses_are_denied()
    {
        var own = new HashSet<IPAddress> { IPAddress.Parse("198.51.100.7") };
        Assert.Equal("198.51.100.7 is an address of this service's own host", Policy(own: own).Refusal(IPAddress.Parse("198.51.100.7")));
        Assert.Null(Policy(own: own).Refusal(IPAddress.Parse("198.51.100.8")));
    }

    [Fact]
    public void Allow_overrides_a_default_and_the_longer_prefix_wins_between_allow_and_deny()
    {
        var policy = Policy(allow: ["127.0.0.0/8", "10.9.9.9"], deny: ["127.0.0.2/32", "10.0.0.0/8", "192.0.2.0/24"]);
        Assert.Null(policy.Refusal(IPAddress.Parse("127.0.0.1")));
        Assert.Equal("127.0.0.2 is denied by RemoteTest:Targets:Deny", policy.Refusal(IPAddress.Parse("127.0.0.2")));
        Assert.Null(policy.Refusal(IPAddress.Parse("10.9.9.9")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("10.9.9.8")));
        Assert.NotNull(policy.Refusal(IPAddress.Parse("192.0.2.1")));
        // A tie denies.
        Assert.NotNull(Policy(allow: ["192.0.2.0/24"], deny: ["192.0.2.0/24"]).Refusal(IPAddress.Parse("192.0.2.1")));
    }

    [Fact]
    public void Ipv4_mapped_ipv6_addresses_are_judged_as_ipv4()
    {
        var policy = Policy(deny: ["203.0.113.0/24"]);
        Assert.NotNull(policy.Refusal(IPAddress.Parse("::ffff:203.0.113.5")));
        Assert.NotNull(Policy().Refusal(IPAddress.Parse("::ffff:169.254.169.254")));
    }

    [Theory]
    [InlineData("10.0.0.0/8", true)]
    [InlineData("192.0.2.1", true)]
    [InlineData("2001:db8::/32", true)]
    [InlineData("::1", true)]
    [InlineData("10.0.0.0/33", false)]
    [InlineData("example.com", false)]
    [InlineData("", false)]
    public void Cidr_parsing(string text, bool valid) => Assert.Equal(valid, TargetPolicy.ParseCidr(text) is not null);

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("https://[::1]:443", true)]
    [InlineData("http://127.0.0.2:0", true)]
    [InlineData("http://unix:/run/remotetest.sock", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://192.0.2.1:8080", false)]
    [InlineData("http://remotetest.example.com:8080", false)]
    [InlineData("http://127.0.0.1:notaport", false)] // Kestrel takes the whole text as the host and binds [::]:80
    [InlineData("127.0.0.1:8080", false)]            // no scheme: not a listen address at all
    public void Listen_addresses_are_loopback_or_not(string url, bool loopback) => Assert.Equal(loopback, ListenAddresses.IsLoopback(url));

    [Theory]
    [InlineData("http://127.0.0.1:notaport", "no valid port")]
    [InlineData("127.0.0.1:8080", "is not a listen address")]
    [InlineData("http://127.0.0.1:8080", null)]
    [InlineData("https://[::1]:443", null)]
    [InlineData("http://unix:/run/remotetest.sock", null)]
    public void A_listen_address_kestrel_would_misread_is_named(string url, string? problem)
    {
        var found = ListenAddresses.Problem(url);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found);
        }
    }

    [Fact]
    public void Listen_addresses_come_from_kestrel_endpoints_then_urls_then_ports()
    {
        static IConfiguration Config(params (string, string)[] pairs) =>
            new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Item1, p.Item2))).Build();

        Assert.Equal(["http://127.0.0.1:8080"], ListenAddresses.From(Config(), "http://127.0.0.1:8080"));
        Assert.Equal(["http://127.0.0.1:1", "http://0.0.0.0:2"], ListenAddresses.From(Config(("urls", "http://127.0.0.1:1;http://0.0.0.0:2")), "x"));
        Assert.Equal(["https://0.0.0.0:443"], ListenAddresses.From(Config(("urls", "http://127.0.0.1:1"), ("Kestrel:Endpoints:Https:Url", "https://0.0.0.0:443")), "x"));
        Assert.False(ListenAddresses.AreLoopbackOnly(ListenAddresses.From(Config(("http_ports", "8080")), "x")));
    }
}
