using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Probes;

/// <summary>
/// A client certificate for mutual-TLS interfaces (the Authentication Service's), made from the PEM certificate and
/// PEM private key a task was given. The key lives in memory only for the check.
/// </summary>
public static class ClientCertificate
{
    /// <summary>The certificate with its key.</summary>
    /// <exception cref="FormatException">Not a PEM certificate, not a PEM key, or the key does not match; the text says which.</exception>
    public static X509Certificate2 FromPem(string certificatePem, string keyPem)
    {
        try
        {
            var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                throw new FormatException("the private key does not belong to the certificate");
            }
            return certificate;
        }
        catch (CryptographicException)
        {
            // The exception's message could quote the key material; ours says only what is wrong.
            throw new FormatException("not a PEM certificate with its matching PEM private key (-----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY-----)");
        }
        catch (ArgumentException)
        {
            throw new FormatException("not a PEM certificate with its matching PEM private key (-----BEGIN CERTIFICATE----- and -----BEGIN PRIVATE KEY-----)");
        }
    }
}
