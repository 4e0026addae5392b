namespace RemoteTest.Probes;

/// <summary>
/// Reads a failed HTTPS request to a mutual-TLS interface (the Authentication Service's) as what it is: the server
/// wanting a client certificate. Under TLS 1.2 the handshake itself fails; under TLS 1.3 the client finishes its side
/// and the server's refusal arrives as the connection closing before any HTTP answer.
/// </summary>
public static class MutualTls
{
    /// <summary>The error text when <paramref name="result"/> looks like a refused (or missing) client certificate, else null.</summary>
    public static string? Refused(HttpProbeResult result, bool certificateGiven)
    {
        if (result.Ok || result.Status is not null || result.ErrorKind is not (ErrorKind.TlsHandshake or ErrorKind.ProtocolError))
        {
            return null;
        }
        // A close before the server's certificate was seen is not ours to explain (a plain-TCP service, a firewall reset).
        if (result.ErrorKind == ErrorKind.ProtocolError && result.Tls is null)
        {
            return null;
        }
        return certificateGiven
            ? $"mutual TLS required: the server refused the client certificate given ({result.Error})"
            : $"mutual TLS required: the server wants a client certificate; give test_data.client_cert_pem and client_key_pem ({result.Error})";
    }
}
