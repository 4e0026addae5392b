namespace RemoteTest.Probes;

/// <summary>
/// The fixed vocabulary of <c>error_kind</c>: every failed check carries one beside its free-text
/// <c>error</c>, so clients branch without parsing text.
/// </summary>
public static class ErrorKind
{
    public const string Refused = "refused";
    public const string Timeout = "timeout";
    public const string Unreachable = "unreachable";
    public const string Dns = "dns";
    public const string NxDomain = "nxdomain";
    public const string ServFail = "servfail";
    public const string DnsRefused = "refused";
    public const string NoAnswer = "no_answer";
    public const string TlsHandshake = "tls_handshake";
    public const string TlsVerify = "tls_verify";
    public const string HttpStatus = "http_status";
    public const string AuthFailed = "auth_failed";
    public const string ProtocolError = "protocol_error";
    public const string NotAllowed = "not_allowed";
    public const string NotCheckable = "not_checkable";

    /// <summary>A port expected closed (a firewall rule) answered.</summary>
    public const string UnexpectedOpen = "unexpected_open";

    /// <summary>A SIP server answered with a failure status (5xx, 6xx).</summary>
    public const string SipStatus = "sip_status";

    /// <summary>
    /// The TLS handshake of an interface that requires mutual TLS (the Authentication Service's) failed: the server
    /// wants a client certificate (none given, or the one given refused); the application is not shown to be down.
    /// </summary>
    public const string MtlsRequired = "mtls_required";

    /// <summary>The worker lacks a privilege the check needs (raw sockets: CAP_NET_RAW).</summary>
    public const string NotPermitted = "not_permitted";

    /// <summary>The request lacks what the check needs (credentials, a URL path).</summary>
    public const string MissingInput = "missing_input";
}
