namespace RemoteTest.Security;

/// <summary><c>RemoteTest:Auth</c>: who may use the API.</summary>
public sealed class AuthOptions
{
    /// <summary>API tokens; each is stored as a hash (see <c>token new</c>), never in plain text.</summary>
    public ApiTokenOptions[] Tokens { get; set; } = [];

    /// <summary>
    /// Accept requests without a token. Needed to listen on a non-loopback address with no tokens configured;
    /// with tokens configured, anonymous callers get <see cref="AnonymousScopes"/>.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// What an anonymous caller may do; empty means submit and read, never admin. (Empty by default because
    /// configuration adds to a list, never replaces it.)
    /// </summary>
    public string[] AnonymousScopes { get; set; } = [];

    /// <summary>
    /// Host names (beyond localhost, 127.0.0.0/8 and [::1]) the service answers to while anonymous access is on,
    /// e.g. the name a monitoring system scrapes it by. Other names are refused, which defeats DNS rebinding.
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];
}

/// <summary>One API token as configured.</summary>
public sealed class ApiTokenOptions
{
    /// <summary>Who holds the token; it owns the tasks the token submits and names it in the audit log.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>sha256:&lt;hex&gt;</c> of the token, as <c>token new</c> prints it.</summary>
    public string Hash { get; set; } = "";

    /// <summary><c>submit</c>, <c>read</c>, <c>admin</c> (admin includes the other two and sees every task).</summary>
    public string[] Scopes { get; set; } = [];

    /// <summary>Overrides <c>Limits:RateLimit:PermitLimit</c> for this token.</summary>
    public int? RateLimit { get; set; }

    /// <summary>When the token stops working (ISO 8601, as <c>token new --expires 90d</c> prints it); null: never.</summary>
    public DateTimeOffset? Expires { get; set; }
}

/// <summary><c>RemoteTest:Targets</c>: where probes may connect.</summary>
public sealed class TargetsOptions
{
    /// <summary>CIDR blocks (or single addresses) probes may reach even if a default rule denies them.</summary>
    public string[] Allow { get; set; } = [];

    /// <summary>CIDR blocks probes must never reach. Between Allow and Deny the longer prefix wins; a tie denies.</summary>
    public string[] Deny { get; set; } = [];

    /// <summary>Private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): allowed unless set to false.</summary>
    public bool AllowPrivate { get; set; } = true;

    /// <summary>
    /// Cloud metadata and platform addresses (169.254.169.254, fd00:ec2::254, 100.100.100.200, 168.63.129.16, ...)
    /// are denied even when private networks are allowed; true lets probes reach them (an Allow entry for the exact
    /// address does too).
    /// </summary>
    public bool AllowPlatformAddresses { get; set; }

    /// <summary>Politeness: connections open at once to one address, across all tasks of this process.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 32;
}

/// <summary><c>RemoteTest:Cors</c>: browser origins allowed to call the API; none by default (CORS off).</summary>
public sealed class CorsOptions
{
    /// <summary>Origins (<c>https://noc.example.com</c>) whose pages may call the API from a browser; empty turns CORS off.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}

/// <summary><c>RemoteTest:KeyRing</c>: where the Data Protection keys that encrypt task secrets live.</summary>
public sealed class KeyRingOptions
{
    /// <summary>A directory shared by every node (e.g. a mounted volume); default: the backend's own place.</summary>
    public string? Directory { get; set; }

    /// <summary>A PFX certificate that encrypts the keys at rest (every node needs the same one).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PFX's password, if it has one (better from the environment than from a file).</summary>
    public string? CertificatePassword { get; set; }
}

/// <summary><c>RemoteTest:Limits:RateLimit</c>: requests per token (or per address for anonymous callers) per window.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per window; 0 turns rate limiting off.</summary>
    public int PermitLimit { get; set; } = 600;

    /// <summary>The window; windows start at multiples of it (UTC), so every node agrees when one resets.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
