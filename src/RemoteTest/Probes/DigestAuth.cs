using System.Net;

namespace RemoteTest.Probes;

/// <summary>
/// HTTP Digest authentication (RFC 7616) for the DMS device-file check, through the framework's own support:
/// <see cref="SocketsHttpHandler"/> answers a <c>WWW-Authenticate: Digest</c> challenge (MD5 or SHA-256, qop=auth)
/// with these credentials. Registered for Digest only, so the password never travels as Basic.
/// </summary>
public static class DigestAuth
{
    public const string Scheme = "Digest";

    /// <summary>Credentials the handler uses for a Digest challenge from <paramref name="url"/>'s origin, and for nothing else.</summary>
    public static ICredentials Credentials(Uri url, string user, string password) =>
        new CredentialCache { { new Uri(url.GetLeftPart(UriPartial.Authority)), Scheme, new NetworkCredential(user, password) } };
}
