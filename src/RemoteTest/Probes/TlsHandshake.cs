using System.ComponentModel;
using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace RemoteTest.Probes;

/// <summary>
/// What a TLS client asks for. <paramref name="TargetName"/> is the DNS name (sent as SNI and checked against
/// the certificate) or the IP literal (no SNI; checked against the certificate's IP addresses).
/// </summary>
public sealed record TlsHandshakeRequest(string TargetName, bool Verify, X509Certificate2Collection? ExtraRoots, TimeSpan Timeout);

/// <summary>
/// The TLS client handshake over a connected stream (from <see cref="TcpConnector"/>). The certificate is always
/// inspected, even when validation fails, so a report can say which certificate the server serves.
/// </summary>
public static class TlsHandshake
{
    /// <summary>
    /// Runs the handshake within the request's timeout. Failures are in the result; only cancellation of
    /// <paramref name="cancellationToken"/> throws. The session owns <paramref name="transport"/>.
    /// </summary>
    public static async Task<TlsSession> RunAsync(Stream transport, TlsHandshakeRequest request, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var recorder = new FirstBytesStream(transport);
        var ssl = new SslStream(recorder, leaveInnerStreamOpen: false);
        List<byte[]>? sent = null;
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = request.TargetName,
            // No certificate downloads (AIA, CRL) during SslStream's own chain build: see TlsChainPolicy.
            CertificateChainPolicy = TlsChainPolicy.NoDownloads(),
            // Accept here and judge afterwards: the certificate facts are wanted even when they fail validation,
            // and nothing is sent over the session unless the judgement passes.
            RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                sent = SentCertificates(certificate, chain);
                return true;
            },
        };

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(request.Timeout);
        string? failure = null;
        var failureKind = ErrorKind.TlsHandshake;
        try
        {
            await ssl.AuthenticateAsClientAsync(options, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            failure = $"TLS handshake timed out after {ProbeText.Seconds(request.Timeout)} s" +
                      (recorder.Received.Count == 0 ? " (the server accepted the connection but sent nothing)" : "");
            failureKind = ErrorKind.Timeout;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or Win32Exception or ObjectDisposedException)
        {
            failure = DescribeFailure(ex, recorder);
        }

        var elapsed = time.GetElapsedTime(started);
        if (failure is not null)
        {
            await ssl.DisposeAsync();
            return new TlsSession(null, false, null, null, Certificates(sent, request, time), elapsed, failure, failureKind);
        }

        var protocol = ProtocolName(ssl.SslProtocol);
        var cipher = ssl.NegotiatedCipherSuite.ToString();
        var info = Certificates(sent, request, time);
        if (info is null)
        {
            await ssl.DisposeAsync();
            return new TlsSession(null, true, protocol, cipher, null, elapsed, "No certificate", ErrorKind.TlsHandshake);
        }
        if (request.Verify && !info.Valid)
        {
            await ssl.DisposeAsync();
            return new TlsSession(null, true, protocol, cipher, info, elapsed, string.Join("; ", info.VerifyErrors), ErrorKind.TlsVerify);
        }
        return new TlsSession(ssl, true, protocol, cipher, info, elapsed, null, null);
    }

    /// <summary>The protocol as people write it: <c>TLS 1.3</c>.</summary>
    public static string ProtocolName(SslProtocols protocol) => protocol switch
    {
#pragma warning disable SYSLIB0039, CS0618 // naming old protocols is not using them
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        SslProtocols.Tls11 => "TLS 1.1",
        SslProtocols.Tls => "TLS 1.0",
        SslProtocols.Ssl3 => "SSL 3.0",
        SslProtocols.Ssl2 => "SSL 2.0",
#pragma warning restore SYSLIB0039, CS0618
        _ => protocol.ToString(),
    };

    private static TlsCertificateInfo? Certificates(List<byte[]>? sent, TlsHandshakeRequest request, TimeProvider time)
    {
        if (sent is not { Count: > 0 })
        {
            return null;
        }
        var certificates = sent.Select(raw => X509CertificateLoader.LoadCertificate(raw)).ToList();
        try
        {
            return TlsCertificateInfo.Inspect(certificates, request.TargetName, request.ExtraRoots, time.GetUtcNow());
        }
        finally
        {
            certificates.ForEach(c => c.Dispose());
        }
    }

    /// <summary>The certificates as the server sent them, its own first (copied: the handshake disposes its own).</summary>
    internal static List<byte[]>? SentCertificates(X509Certificate? certificate, X509Chain? chain)
    {
        if (certificate is null)
        {
            return null;
        }
        var leaf = certificate.GetRawCertData();
        // .NET puts the peer's certificates, in wire order, into the chain's extra store.
        var sent = chain?.ChainPolicy.ExtraStore.Select(c => c.RawData).ToList() ?? [];
        if (sent.Count == 0 || !sent[0].AsSpan().SequenceEqual(leaf))
        {
            sent.RemoveAll(raw => raw.AsSpan().SequenceEqual(leaf));
            sent.Insert(0, leaf);
        }
        return sent;
    }

    private static string DescribeFailure(Exception ex, FirstBytesStream recorder)
    {
        var received = recorder.Received;
        if (received.Count == 0)
        {
            return recorder.EndOfStream
                ? "TLS handshake failed: the server closed the connection without answering (not a TLS port?)"
                : $"TLS handshake failed: {Innermost(ex)}";
        }
        if (received[0] == 0x15 && received.Count >= 7)
        {
            // A plaintext alert record: type 21, version (2), length (2), level, description.
            return $"TLS handshake failed: the server sent alert '{AlertName(received[6])}'";
        }
        if (received[0] != 0x16 && received[0] != 0x15)
        {
            return $"TLS handshake failed: the server answered in plain text, not TLS: '{Printable(received)}'";
        }
        return $"TLS handshake failed: {Innermost(ex)}";
    }

    private static string Innermost(Exception ex)
    {
        while (ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex.Message;
    }

    private static string Printable(IReadOnlyList<byte> bytes)
    {
        var text = new StringBuilder();
        foreach (var b in bytes.Take(48))
        {
            text.Append(b is >= 0x20 and < 0x7f ? (char)b : b is 0x0d or 0x0a ? ' ' : '.');
        }
        return text.ToString().Trim();
    }

    private static string AlertName(byte description) => description switch
    {
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure (no protocol version or cipher in common?)",
        42 => "bad_certificate",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version (the server refuses the TLS versions offered)",
        71 => "insufficient_security",
        80 => "internal_error",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name (the server has no certificate for this name; see sni)",
        116 => "certificate_required (the server wants a client certificate)",
        120 => "no_application_protocol",
        _ => $"alert {description}",
    };

    /// <summary>Passes everything through and keeps the first bytes the server sent, to explain a failed handshake.</summary>
    private sealed class FirstBytesStream(Stream inner) : Stream
    {
        private const int Keep = 64;
        private readonly List<byte> _received = [];

        public IReadOnlyList<byte> Received => _received;
        public bool EndOfStream { get; private set; }

        public override bool CanRead => inner.CanRead;
        public override bool CanSeek => false;
        public override bool CanWrite => inner.CanWrite;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Record(buffer.Span[..n]);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Record(buffer.AsSpan(offset, n));
            return n;
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) =>
            inner.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }

        private void Record(ReadOnlySpan<byte> data)
        {
            if (data.Length == 0)
            {
                EndOfStream = true;
                return;
            }
            foreach (var b in data[..Math.Min(data.Length, Math.Max(0, Keep - _received.Count))])
            {
                _received.Add(b);
            }
        }
    }
}

/// <summary>
/// The outcome of a TLS handshake. <see cref="Stream"/> is open only when the certificate was accepted
/// (valid, or validation not asked for); a caller that speaks a protocol over TLS uses it and disposes the session.
/// </summary>
public sealed class TlsSession(
    SslStream? stream, bool established, string? protocol, string? cipher, TlsCertificateInfo? certificate,
    TimeSpan elapsed, string? error, string? errorKind) : IAsyncDisposable
{
    public SslStream? Stream { get; } = stream;

    /// <summary>The handshake completed (the certificate may still have been refused).</summary>
    public bool Established { get; } = established;

    /// <summary>Handshake done and certificate accepted: the original's <c>loaded</c>.</summary>
    public bool Accepted => Stream is not null;

    /// <summary>e.g. <c>TLS 1.3</c>.</summary>
    public string? Protocol { get; } = protocol;

    /// <summary>The IANA cipher suite name, e.g. <c>TLS_AES_256_GCM_SHA384</c>.</summary>
    public string? Cipher { get; } = cipher;

    public TlsCertificateInfo? Certificate { get; } = certificate;
    public TimeSpan Elapsed { get; } = elapsed;
    public string? Error { get; } = error;
    public string? ErrorKind { get; } = errorKind;

    public ValueTask DisposeAsync() => Stream?.DisposeAsync() ?? ValueTask.CompletedTask;
}
