using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using RemoteTest.Probes;

namespace RemoteTest.Tests;

/// <summary>
/// The Xsi-Events channel probe against a raw loopback HTTP server that streams like an Xsi server: the &lt;Channel&gt;
/// split across chunks (with a namespace prefix), then a body that never ends.
/// </summary>
public sealed class XsiEventsChannelProbeTests
{
    private static TargetConnector Connector() =>
        new(new TcpConnector(TimeProvider.System), new SystemHostResolver(), TimeProvider.System);

    [Fact]
    public async Task Reads_only_up_to_the_first_complete_channel_across_chunks_then_deletes_it()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var requests = new List<string>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = Task.Run(async () =>
        {
            // First connection: the channel, streamed and never finished.
            using var open = await listener.AcceptTcpClientAsync(stop.Token);
            var stream = open.GetStream();
            requests.Add(await ReadRequestAsync(stream, stop.Token));
            await Write(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n");
            await Chunk(stream, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xsi:Channel xmlns:xsi=\"http://schema.broadsoft.com/xsi\"><xsi:channelId>ch-7f3</xsi:chan");
            await Task.Delay(200, stop.Token);
            await Chunk(stream, "nelId><xsi:channelSetId>s</xsi:channelSetId><xsi:expires>60</xsi:expires></xsi:Channel>");
            // Second connection: the delete (the first stays open: events would follow).
            using var delete = await listener.AcceptTcpClientAsync(stop.Token);
            var deleteStream = delete.GetStream();
            requests.Add(await ReadRequestAsync(deleteStream, stop.Token));
            await Write(deleteStream, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            await Task.Delay(500, stop.Token);
        });

        var watch = Stopwatch.StartNew();
        var result = await XsiEventsChannel.OpenAndDeleteAsync(Connector(), new XsiChannelRequest(
            new Uri($"http://127.0.0.1:{port}/com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel"),
            id => new Uri($"http://127.0.0.1:{port}/com.broadsoft.xsi-events/v2.0/channel/{id}"),
            "user@example.com", "pw&<x>", 60, new TlsClientPolicy(false, []), TimeSpan.FromSeconds(10), 1024 * 1024), CancellationToken.None);
        watch.Stop();
        await server;

        Assert.True(result.Ok, result.Error);
        Assert.Equal("ch-7f3", result.ChannelId);
        Assert.True(result.Deleted);
        Assert.Equal(200, result.DeleteStatus);
        Assert.InRange(result.SetupSeconds!.Value, 0.15, 5);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
        Assert.StartsWith("POST /com.broadsoft.async/com.broadsoft.xsi-events/v2.0/channel HTTP/1.1", requests[0]);
        Assert.Contains("Authorization: Basic ", requests[0]);
        Assert.Matches("<channelSetId>remotetest-[0-9a-f]{24}</channelSetId><priority>1</priority><weight>50</weight><expires>60</expires>", requests[0]);
        Assert.StartsWith("DELETE /com.broadsoft.xsi-events/v2.0/channel/ch-7f3 HTTP/1.1", requests[1]);
    }

    [Fact]
    public async Task A_stream_that_ends_without_a_channel_is_a_protocol_error_and_nothing_is_deleted()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = Task.Run(async () =>
        {
            using var open = await listener.AcceptTcpClientAsync(stop.Token);
            var stream = open.GetStream();
            await ReadRequestAsync(stream, stop.Token);
            await Write(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 11\r\n\r\n<Versions/>");
        });
        var result = await XsiEventsChannel.OpenAndDeleteAsync(Connector(), new XsiChannelRequest(
            new Uri($"http://127.0.0.1:{port}/c"), id => new Uri($"http://127.0.0.1:{port}/d/{id}"),
            "u", "Pw-long-enough-9", 60, new TlsClientPolicy(false, []), TimeSpan.FromSeconds(5), 1024 * 1024), CancellationToken.None);
        await server;
        Assert.False(result.Ok);
        Assert.Equal("protocol_error", result.ErrorKind);
        Assert.Contains("without a complete <Channel>", result.Error);
        Assert.False(result.Deleted);
        Assert.Null(result.DeleteStatus);
    }

    private static async Task<string> ReadRequestAsync(NetworkStream stream, CancellationToken stop)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(chunk, stop);
            if (read == 0)
            {
                break;
            }
            buffer.Write(chunk, 0, read);
            var text = Encoding.UTF8.GetString(buffer.ToArray());
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                continue;
            }
            var length = System.Text.RegularExpressions.Regex.Match(text, "Content-Length: (\\d+)", System.Text.RegularExpressions.RegexOptions.IgnoreCase);
            if (!length.Success || Encoding.UTF8.GetByteCount(text[(end + 4)..]) >= int.Parse(length.Groups[1].Value))
            {
                return text;
            }
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static Task Write(NetworkStream stream, string text) => stream.WriteAsync(Encoding.UTF8.GetBytes(text)).AsTask();

    private static Task Chunk(NetworkStream stream, string text) =>
        Write(stream, $"{Encoding.UTF8.GetByteCount(text):x}\r\n{text}\r\n");
}
