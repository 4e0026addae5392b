using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;

namespace RemoteTest.Fixtures;

/// <summary>
/// <c>openssl s_server</c> on a free loopback port, sending its chain exactly as given (no re-ordering, which
/// .NET's own server does): a real peer for chain-order cases. Null from <see cref="TryStartAsync"/> when the
/// machine has no openssl binary.
/// </summary>
public sealed partial class OpenSslTlsServer : IDisposable
{
    private readonly Process _process;
    private readonly string _directory;

    private OpenSslTlsServer(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    [GeneratedRegex(@"^ACCEPT .*:(\d+)\s*$")]
    private static partial Regex AcceptLine();

    /// <summary>Serves <paramref name="leaf"/> (with its ECDSA key) followed by <paramref name="chain"/> in that order.</summary>
    public static async Task<OpenSslTlsServer?> TryStartAsync(X509Certificate2 leaf, IEnumerable<X509Certificate2> chain)
    {
        var openssl = new[] { "/usr/bin/openssl", "/usr/local/bin/openssl" }.FirstOrDefault(File.Exists);
        if (openssl is null)
        {
            return null;
        }
        var directory = Directory.CreateTempSubdirectory("remotetest-openssl-").FullName;
        await File.WriteAllTextAsync(Path.Combine(directory, "leaf.pem"), leaf.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), leaf.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(Path.Combine(directory, "chain.pem"), string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n")));

        var start = new ProcessStartInfo(openssl)
        {
            ArgumentList = { "s_server", "-accept", "127.0.0.1:0", "-cert", "leaf.pem", "-key", "key.pem", "-cert_chain", "chain.pem", "-ign_eof" },
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            while (await process.StandardOutput.ReadLineAsync(ready.Token) is { } line)
            {
                var match = AcceptLine().Match(line);
                if (match.Success)
                {
                    // Keep draining output so the server never blocks on a full pipe.
                    _ = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
                    return new OpenSslTlsServer(process, directory, int.Parse(match.Groups[1].Value));
                }
            }
            throw new InvalidOperationException("openssl s_server exited before listening");
        }
        catch
        {
            Stop(process, directory);
            throw;
        }
    }

    public void Dispose() => Stop(_process, _directory);

    private static void Stop(Process process, string directory)
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit(5000);
        }
        process.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}
