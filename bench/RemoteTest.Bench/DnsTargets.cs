using System.Globalization;
using System.Text.Json.Nodes;
using RemoteTest.Fixtures.Dns;

namespace RemoteTest.Bench;

/// <summary>
/// The tests' loopback DNS server holding <see cref="Count"/> A records, and the <c>dns.check_records</c>
/// payload that asks for all of them (every name is in its "original" state).
/// </summary>
public sealed class DnsTargets : IAsyncDisposable
{
    private readonly DnsTestServer _server;

    private DnsTargets(DnsTestServer server, int count)
    {
        _server = server;
        Count = count;
        var data = new JsonObject();
        for (var i = 0; i < count; i++)
        {
            data[NameOf(i)] = new JsonObject
            {
                ["original"] = new JsonArray(AddressOf(i, 77)),
                ["13056"] = new JsonArray(AddressOf(i, 78)),
            };
        }
        Body = WireClient.Body("dns.check_records", new JsonArray(data), Kwargs());
        var one = new JsonObject { [NameOf(0)] = new JsonObject { ["original"] = new JsonArray(AddressOf(0, 77)) } };
        OneName = new RepeatedTask($"dns.check_records of 1 name (loopback DNS server)",
            WireClient.Body("dns.check_records", new JsonArray(one), Kwargs()), r => CountWrong(r, 1));
    }

    public int Count { get; }

    /// <summary>The whole workload: all <see cref="Count"/> names in one task.</summary>
    public byte[] Body { get; }

    /// <summary>The small task of workloads a and b when the server has no <c>porttest.run</c>.</summary>
    public RepeatedTask OneName { get; }

    public static DnsTargets Start(int count)
    {
        var server = DnsTestServer.Start();
        for (var i = 0; i < count; i++)
        {
            server.A(NameOf(i), AddressOf(i, 77));
        }
        return new DnsTargets(server, count);
    }

    /// <summary>Names whose result is not "original" (the state the server holds for every one of them).</summary>
    public int CountWrong(JsonNode? result) => CountWrong(result, Count);

    private static int CountWrong(JsonNode? result, int count)
    {
        var wrong = 0;
        for (var i = 0; i < count; i++)
        {
            if (result?["results"]?[NameOf(i)]?["state"]?.GetValue<string>() != "original")
            {
                wrong++;
            }
        }
        return wrong;
    }

    private JsonObject Kwargs() => new() { ["timeout"] = 3.0, ["include_text"] = true, ["nameservers"] = new JsonArray(_server.NameServer) };

    private static string NameOf(int i) => $"host{i.ToString("D4", CultureInfo.InvariantCulture)}.bench.test";

    private static string AddressOf(int i, int second) => $"10.{second}.{i / 256}.{i % 256}";

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
