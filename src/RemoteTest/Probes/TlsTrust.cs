using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;

namespace RemoteTest.Probes;

/// <summary>The <c>RemoteTest:Tls</c> section: trust roots for private CAs, added to the system's for every TLS probe.</summary>
public sealed class TlsOptions : IValidatedOptions
{
    /// <summary>PEM text of one or more CA certificates.</summary>
    public string? CaPem { get; set; }

    /// <summary>Path of a PEM file of one or more CA certificates.</summary>
    public string? CaFile { get; set; }

    public IEnumerable<string> Validate()
    {
        string? problem = null;
        try
        {
            TlsTrust.Load(this);
        }
        catch (FormatException ex)
        {
            problem = ex.Message;
        }
        if (problem is not null)
        {
            yield return problem;
        }
    }
}

/// <summary>Trust roots beyond the system's: the configured ones, plus a task's own <c>ca_pem</c>.</summary>
public sealed class TlsTrust
{
    private readonly Lazy<X509Certificate2Collection> _configured;

    public TlsTrust(IOptions<Probes.TlsOptions> tlsOptions)
    {
        var tls = tlsOptions.Value;
        _configured = new Lazy<X509Certificate2Collection>(() => Load(tls));
    }

    /// <summary>The roots from configuration (empty when none).</summary>
    public X509Certificate2Collection Configured => _configured.Value;

    /// <summary>The configured roots plus <paramref name="extra"/> (a task's own).</summary>
    public X509Certificate2Collection With(X509Certificate2Collection? extra)
    {
        if (extra is not { Count: > 0 })
        {
            return Configured;
        }
        var all = new X509Certificate2Collection(Configured);
        all.AddRange(extra);
        return all;
    }

    /// <summary>Reads the configured roots; throws <see cref="FormatException"/> naming the setting.</summary>
    public static X509Certificate2Collection Load(TlsOptions tls)
    {
        var roots = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(tls.CaPem))
        {
            roots.AddRange(ParsePem(tls.CaPem, $"{RemoteTestOptions.Section}:Tls:CaPem"));
        }
        if (!string.IsNullOrWhiteSpace(tls.CaFile))
        {
            string text;
            try
            {
                text = File.ReadAllText(tls.CaFile);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new FormatException($"{RemoteTestOptions.Section}:Tls:CaFile: cannot read '{tls.CaFile}': {ex.Message}");
            }
            roots.AddRange(ParsePem(text, $"{RemoteTestOptions.Section}:Tls:CaFile"));
        }
        return roots;
    }

    /// <summary>Every certificate in PEM text; throws <see cref="FormatException"/> naming <paramref name="source"/> when there is none or one is broken.</summary>
    public static X509Certificate2Collection ParsePem(string pem, string source)
    {
        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPem(pem);
        }
        catch (CryptographicException ex)
        {
            throw new FormatException($"{source}: not a valid PEM certificate ({ex.Message})");
        }
        if (roots.Count == 0)
        {
            throw new FormatException($"{source}: no '-----BEGIN CERTIFICATE-----' block found");
        }
        return roots;
    }
}
