using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using RemoteTest.Tasks;
using RemoteTest.Tests.Infrastructure;

namespace RemoteTest.Tests.Security;

/// <summary>
/// dns.check_records cannot pin a core: states per domain, values per state and state-name length are bounded
/// (400 naming the field, nothing stored), matching is linear in the states, and the mixed search honours cancellation.
/// </summary>
public sealed class DnsStateBoundsTests
{
    private static JsonObject Payload(JsonObject states) => new()
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = states }),
            ["kwargs"] = new JsonObject { ["nameservers"] = new JsonArray("127.0.0.1:9"), ["timeout"] = 0.5 },
        },
    };

    public static TheoryData<string, string> Oversized => new()
    {
        { "states", "dns_data[\"www.example.test\"]" },
        { "values", "dns_data[\"www.example.test\"][\"s\"]" },
        { "name", "dns_data[\"www.example.test\"]" },
    };

    [Theory]
    [MemberData(nameof(Oversized))]
    public async Task Oversized_state_tables_are_400_naming_the_field_and_nothing_is_stored(string what, string field)
    {
        var states = new JsonObject();
        switch (what)
        {
            case "states":
                for (var i = 0; i < 30_000; i++)
                {
                    states[$"s{i}"] = new JsonArray($"10.{i / 65536}.{i / 256 % 256}.{i % 256}");
                }
                break;
            case "values":
                states["s"] = new JsonArray(Enumerable.Range(0, 257).Select(i => (JsonNode)$"10.0.{i / 256}.{i % 256}").ToArray());
                break;
            case "name":
                states[new string('7', 100_000)] = new JsonArray("10.0.0.1");
                break;
        }
        await using var host = await ServiceHost.StartAsync();
        using var response = await host.PostTaskAsync(Payload(states));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(field, body["field"]!.GetValue<string>());
        Assert.Empty((await host.Http.GetFromJsonAsync<JsonObject>("/task"))!["tasks"]!.AsArray());
    }

    [Fact]
    public async Task Matching_thirty_thousand_states_that_match_nothing_is_linear()
    {
        var states = Enumerable.Range(0, 30_000).ToDictionary(i => $"s{i}", i => (IReadOnlyList<string>)[$"10.{i / 65536}.{i / 256 % 256}.{i % 256}", "192.0.2.1"]);
        var clock = Stopwatch.StartNew();
        // Off the test thread, so the quadratic version fails on the deadline instead of hanging the run.
        var match = await Task.Run(() => DnsStateMatch.Match(["192.0.2.1", "192.0.2.2"], states)).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(DnsStateMatch.Unknown, match.State);
        Assert.Null(match.MixedStates);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public void The_mixed_state_search_honours_cancellation()
    {
        // 2,000 distinct subsets of the live set, none covering it with another: the pair search has work to do.
        var live = Enumerable.Range(1, 16).Select(i => $"192.0.2.{i}").ToList();
        var states = Enumerable.Range(1, 2000).ToDictionary(i => $"s{i}",
            i => (IReadOnlyList<string>)live.Skip(1).Where((_, b) => (i >> b & 1) == 1).ToList());
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => DnsStateMatch.Match(live, states, cancelled.Token));
        Assert.Null(DnsStateMatch.Match(live, states).MixedStates);
    }

    [Fact]
    public void Mixed_states_keep_the_original_priority_order()
    {
        var states = new Dictionary<string, IReadOnlyList<string>>
        {
            ["original"] = ["192.0.2.1"],
            ["13056"] = ["192.0.2.2"],
            ["b"] = ["192.0.2.1"],
            ["a"] = ["192.0.2.2", "192.0.2.1", "192.0.2.9"],
        };
        var match = DnsStateMatch.Match(["192.0.2.1", "192.0.2.2"], states);
        Assert.Equal(["13056", "original"], match.MixedStates);
        Assert.Equal("a", match.ClosestState);
    }
}
