using System.Text;
using System.Text.Json.Nodes;

namespace RemoteTest.Tests.Security;

/// <summary>
/// Generates request bodies for <c>POST /task</c> that are each wrong in at least one way the API must refuse with a
/// 4xx: broken JSON, invalid UTF-8, deep nesting, wrong shapes and types, huge numbers, oversized strings, unknown
/// fields. Every generator guarantees a defect by construction, so a 202 is a bug, never bad luck.
/// </summary>
public sealed class MalformedPayloads(int seed)
{
    private readonly Random _random = new(seed);
    private static readonly string[] Keys = ["task_name", "data", "args", "kwargs", "queue", "dns_data", "timeout", "nameservers", "password", "x", ""];
    private static readonly string[] KnownTasks = ["dns.check_records", "porttest.run", "apptest.run"];

    /// <summary>One payload and the name of the generator that made it (for the failure message).</summary>
    public (string Kind, byte[] Body) Next()
    {
        var kinds = new (string, Func<byte[]>)[]
        {
            ("random bytes", RandomBytes),
            ("invalid utf-8", InvalidUtf8),
            ("truncated", Truncated),
            ("deep nesting", DeepNesting),
            ("not an object", NotAnObject),
            ("random shape", RandomShape),
            ("wrong type", WrongType),
            ("huge number", HugeNumber),
            ("oversized string", OversizedString),
            ("unknown field", UnknownField),
            ("duplicate key", DuplicateKey),
        };
        var (kind, make) = kinds[_random.Next(kinds.Length)];
        return (kind, make());
    }

    private static JsonObject Valid() => new()
    {
        ["task_name"] = "dns.check_records",
        ["data"] = new JsonObject
        {
            ["args"] = new JsonArray(new JsonObject { ["www.example.test"] = new JsonObject { ["original"] = new JsonArray("192.0.2.1") } }),
            ["kwargs"] = new JsonObject { ["timeout"] = 1 },
        },
    };

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private byte[] RandomBytes()
    {
        var bytes = new byte[_random.Next(1, 300)];
        _random.NextBytes(bytes);
        // A leading byte that no JSON text starts with, so the bytes are never a valid object.
        bytes[0] = (byte)"\x80\xff{[\"x"[_random.Next(6)];
        return bytes[0] == '{' && bytes.Length > 1 && bytes[^1] == '}' ? [.. bytes, (byte)'x'] : bytes;
    }

    private byte[] InvalidUtf8()
    {
        var bad = new[] { new byte[] { 0xff }, [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x28, 0x8c, 0xbc], [0xed, 0xa0, 0x80], [0xc0, 0xaf] }[_random.Next(6)];
        var text = Valid().ToJsonString();
        var at = text.IndexOf("www.example.test", StringComparison.Ordinal) + _random.Next(0, 16);
        var before = Utf8(text[..at]);
        return [.. before, .. bad, .. Utf8(text[at..])];
    }

    private byte[] Truncated()
    {
        var text = Valid().ToJsonString();
        return Utf8(text[.._random.Next(0, text.Length - 1)]);
    }

    private byte[] DeepNesting()
    {
        var depth = _random.Next(65, 20000);
        var open = _random.Next(2) == 0 ? "[" : "{\"a\":";
        var close = open == "[" ? "]" : "}";
        var nested = string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        return Utf8($"{{\"task_name\": \"dns.check_records\", \"data\": {{\"args\": [{nested}]}}}}");
    }

    private byte[] NotAnObject() => Utf8(_random.Next(8) switch
    {
        0 => "",
        1 => "null",
        2 => "[]",
        3 => $"[{Valid().ToJsonString()}]",
        4 => "\"dns.check_records\"",
        5 => _random.Next().ToString(),
        6 => "true",
        _ => "   ",
    });

    private JsonNode? RandomValue(int depth)
    {
        var pick = _random.Next(depth > 4 ? 6 : 8);
        return pick switch
        {
            0 => null,
            1 => JsonValue.Create(_random.Next(2) == 0),
            2 => JsonValue.Create(_random.NextDouble() * Math.Pow(10, _random.Next(-5, 300)) * (_random.Next(2) == 0 ? -1 : 1)),
            3 => JsonValue.Create(_random.Next(int.MinValue, int.MaxValue)),
            4 => JsonValue.Create(RandomString(_random.Next(0, 40))),
            5 => JsonValue.Create(Keys[_random.Next(Keys.Length)]),
            6 => new JsonArray(Enumerable.Range(0, _random.Next(0, 5)).Select(_ => RandomValue(depth + 1)).ToArray()),
            _ => RandomObject(depth + 1),
        };
    }

    private JsonObject RandomObject(int depth)
    {
        var o = new JsonObject();
        for (var i = _random.Next(0, 5); i > 0; i--)
        {
            o[_random.Next(3) == 0 ? RandomString(_random.Next(1, 12)) : Keys[_random.Next(Keys.Length)]] = RandomValue(depth);
        }
        return o;
    }

    private string RandomString(int length)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = _random.Next(10) switch
            {
                0 => (char)_random.Next(0, 32),
                1 => (char)_random.Next(0x80, 0x2fff),
                _ => (char)_random.Next(32, 127),
            };
        }
        return new string(chars);
    }

    /// <summary>Random members everywhere, but kwargs always holds a name no task has (or an earlier part is already wrong).</summary>
    private byte[] RandomShape()
    {
        var o = RandomObject(0);
        o["task_name"] = _random.Next(3) == 0 ? RandomValue(0) : KnownTasks[_random.Next(KnownTasks.Length)];
        var kwargs = RandomObject(1);
        kwargs["fuzz_" + _random.Next(1_000_000)] = RandomValue(1);
        o["data"] = new JsonObject { ["args"] = _random.Next(3) == 0 ? RandomValue(1) : new JsonArray(RandomValue(1)), ["kwargs"] = kwargs };
        return Utf8(o.ToJsonString());
    }

    private byte[] WrongType()
    {
        var o = Valid();
        var kwargs = o["data"]!["kwargs"]!.AsObject();
        var args = o["data"]!["args"]!.AsArray();
        JsonNode?[] notObjects = [null, 1, "x", true, new JsonArray(), new JsonArray(new JsonObject())];
        switch (_random.Next(12))
        {
            case 0: args[0] = notObjects[_random.Next(notObjects.Length)]?.DeepClone(); break;
            case 1: kwargs["timeout"] = new[] { (JsonNode)"1", new JsonObject(), new JsonArray(1), true, 0, -1, 1e9 }[_random.Next(7)]; break;
            case 2: kwargs["include_text"] = new[] { (JsonNode)"yes", 1, new JsonArray(), new JsonObject() }[_random.Next(4)]; break;
            case 3: kwargs["nameservers"] = new[] { (JsonNode)"192.0.2.53", new JsonArray(1), new JsonArray("not-an-ip"), new JsonArray("192.0.2.53:0"), new JsonArray("192.0.2.53:99999"), new JsonObject() }[_random.Next(6)]; break;
            case 4: kwargs["record_type"] = new[] { (JsonNode)"BOGUS", 5, new JsonArray("A"), "" }[_random.Next(4)]; break;
            case 5: args[0]!["www.example.test"]!["original"] = new[] { (JsonNode)"192.0.2.1", 1, new JsonObject(), new JsonArray(1), new JsonArray(new JsonArray()) }[_random.Next(5)]; break;
            case 6: args[0]!["www.example.test"] = new[] { (JsonNode)"x", 1, new JsonArray() }[_random.Next(3)]; break;
            case 7: args[0] = new JsonObject { [new[] { "-bad-.test", "a b.test", "ünï.test", "a..b", new string('a', 64) + ".test", "x/y", "" }[_random.Next(7)]] = new JsonObject() }; break;
            case 8: o["task_name"] = new[] { (JsonNode)1, new JsonArray("dns.check_records"), new JsonObject(), "", "DNS.CHECK_RECORDS", "dns.check_records " }[_random.Next(6)]; break;
            case 9: o["data"]!["args"] = new[] { (JsonNode)"x", 1, new JsonObject() }[_random.Next(3)]; break;
            case 10: o["data"]!["kwargs"] = new[] { (JsonNode)"x", 1, new JsonArray() }[_random.Next(3)]; break;
            default: o["queue"] = new[] { (JsonNode)"Not A Queue", 1, new JsonArray(), new string('q', 65), "../x" }[_random.Next(5)]; break;
        }
        return Utf8(o.ToJsonString());
    }

    private byte[] HugeNumber()
    {
        var number = new[] { "1e400", "-1e400", "1e308", "123456789012345678901234567890", "-0.0000000000000000000001", "9007199254740993", "1E+999999999" }[_random.Next(7)];
        var text = Valid().ToJsonString().Replace("\"timeout\":1", $"\"timeout\":{number}");
        if (number is "-0.0000000000000000000001")
        {
            return Utf8(text);
        }
        return _random.Next(2) == 0
            ? Utf8(text)
            // A huge number where an object belongs is wrong whatever its size.
            : Utf8($"{{\"task_name\": \"dns.check_records\", \"data\": {{\"args\": [{number}]}}}}");
    }

    private byte[] OversizedString()
    {
        var big = new string('a', _random.Next(2_000, 200_000));
        var o = Valid();
        switch (_random.Next(4))
        {
            case 0: o["task_name"] = big; break;
            case 1: o["data"]!["args"]![0] = new JsonObject { [big + ".test"] = new JsonObject() }; break;
            case 2: o["data"]!["kwargs"]!["record_type"] = big; break;
            default: o["data"]!["args"]![0]!["www.example.test"]!["original"] = new JsonArray(big); break;
        }
        return Utf8(o.ToJsonString());
    }

    private byte[] UnknownField()
    {
        var o = Valid();
        var name = new[] { "timeoutt", "Timeout", "password", "__proto__", "constructor", "ports", RandomString(8) }[_random.Next(7)];
        if (_random.Next(2) == 0)
        {
            o["data"]!["kwargs"]![name] = RandomValue(2);
        }
        else
        {
            o["data"]![name == "args" || name == "kwargs" ? "extra" : name] = RandomValue(2);
        }
        return Utf8(o.ToJsonString());
    }

    private byte[] DuplicateKey()
    {
        var text = Valid().ToJsonString();
        return Utf8(_random.Next(3) switch
        {
            0 => text.Replace("{\"task_name\":\"dns.check_records\"", "{\"task_name\":\"dns.check_records\",\"task_name\":\"nope\""),
            1 => text.Replace("\"kwargs\":{\"timeout\":1}", "\"kwargs\":{\"timeout\":1,\"timeout\":\"x\"}"),
            _ => text.Replace("\"original\":[\"192.0.2.1\"]", "\"original\":[\"192.0.2.1\"],\"original\":5"),
        });
    }
}
