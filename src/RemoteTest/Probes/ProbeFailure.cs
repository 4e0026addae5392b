using System.Net.Sockets;
using System.Security.Authentication;
using System.Xml;

namespace RemoteTest.Probes;

/// <summary>A failed probe step as data: free text a person reads and an <see cref="ErrorKind"/> a client branches on.</summary>
public sealed record ProbeFailure(string Error, string Kind)
{
    /// <summary>
    /// Turns an exception from a network step into words and a kind. Only the exception's type and socket error are
    /// used, never its message verbatim where a server could have put text in it, so nothing a server echoes (or a
    /// secret it echoes) reaches the result through this path.
    /// </summary>
    public static ProbeFailure From(Exception ex, TimeSpan timeout, TlsObservation? tls = null)
    {
        switch (ex)
        {
            case ProbeFailureException known:
                return known.Failure;
            case OperationCanceledException or TimeoutException:
                return TimedOut(timeout);
            case SocketException s:
                return FromSocket(s, timeout);
            case AuthenticationException:
                return tls?.VerifyError is { } verify
                    ? new ProbeFailure(verify, ErrorKind.TlsVerify)
                    : new ProbeFailure("TLS handshake failed" + (ex.InnerException is { } i ? $": {Describe(i)}" : ""), ErrorKind.TlsHandshake);
            case XmlException x:
                return new ProbeFailure($"invalid XML in response (line {x.LineNumber}, position {x.LinePosition})", ErrorKind.ProtocolError);
            case EndOfStreamException:
                return new ProbeFailure("connection closed by the server before the response was complete", ErrorKind.ProtocolError);
            case ProtocolViolation p:
                return new ProbeFailure(p.Message, ErrorKind.ProtocolError);
            case HttpRequestException { InnerException: { } inner }:
                return From(inner, timeout, tls);
            case HttpRequestException h when h.HttpRequestError == HttpRequestError.ResponseEnded:
                return new ProbeFailure("connection closed by the server before the response was complete", ErrorKind.ProtocolError);
            case HttpRequestException h:
                return new ProbeFailure($"HTTP request failed ({h.HttpRequestError})", ErrorKind.ProtocolError);
            case IOException { InnerException: SocketException s }:
                return FromSocket(s, timeout);
            case IOException { InnerException: AuthenticationException a }:
                return From(a, timeout, tls);
            case IOException:
                return new ProbeFailure("connection closed by the server before the response was complete", ErrorKind.ProtocolError);
            default:
                return new ProbeFailure($"unexpected error ({ex.GetType().Name})", ErrorKind.ProtocolError);
        }
    }

    /// <summary>The step took longer than its timeout.</summary>
    public static ProbeFailure TimedOut(TimeSpan timeout) =>
        new($"timed out after {ProbeText.Seconds(timeout)} s", ErrorKind.Timeout);

    private static ProbeFailure FromSocket(SocketException s, TimeSpan timeout) => s.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => new("connection refused", ErrorKind.Refused),
        SocketError.TimedOut => TimedOut(timeout),
        SocketError.HostNotFound or SocketError.NoData => new("host not found", ErrorKind.Dns),
        SocketError.TryAgain => new("host name lookup failed (temporary DNS failure)", ErrorKind.Dns),
        SocketError.NetworkUnreachable or SocketError.HostUnreachable or SocketError.NetworkDown => new("network unreachable", ErrorKind.Unreachable),
        SocketError.ConnectionReset => new("connection reset by the server", ErrorKind.ProtocolError),
        SocketError.ConnectionAborted or SocketError.Shutdown => new("connection closed by the server", ErrorKind.ProtocolError),
        _ => new($"socket error ({s.SocketErrorCode})", ErrorKind.Unreachable),
    };

    private static string Describe(Exception ex) => ex switch
    {
        SocketException s => FromSocket(s, TimeSpan.Zero).Error,
        IOException => "connection closed by the server",
        _ => ex.GetType().Name,
    };
}

/// <summary>A peer broke the protocol (unexpected document, missing element); its message is ours, never the peer's text.</summary>
public sealed class ProtocolViolation(string message) : Exception(message);
