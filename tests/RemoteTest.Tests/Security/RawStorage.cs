using System.Text;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Searches raw storage for a secret: its UTF-8, UTF-16 and base64 forms. Backends other than files (PostgreSQL rows,
/// Redis keys and values) pass their raw text or bytes to <see cref="AssertNoSecret(string, byte[], string)"/>.
/// </summary>
public static class RawStorage
{
    /// <summary>Every byte of every file below <paramref name="directory"/> (database, WAL, key ring) searched for the password.</summary>
    public static void AssertNoSecretInFiles(string directory, string secret)
    {
        var files = Directory.GetFiles(directory, "*", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        // The lock file is empty and held exclusively (flock) while the service runs.
        foreach (var file in files.Where(f => Path.GetFileName(f) != "remotetest.lock"))
        {
            byte[] bytes;
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            AssertNoSecret(file, bytes, secret);
        }
    }

    /// <summary>Fails when <paramref name="raw"/> holds <paramref name="secret"/> in any of its plain encodings.</summary>
    public static void AssertNoSecret(string where, byte[] raw, string secret)
    {
        foreach (var needle in new[] { Encoding.UTF8.GetBytes(secret), Encoding.Unicode.GetBytes(secret), Encoding.UTF8.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes(secret))) })
        {
            Assert.True(raw.AsSpan().IndexOf(needle) < 0, $"{where} holds the secret");
        }
    }
}
