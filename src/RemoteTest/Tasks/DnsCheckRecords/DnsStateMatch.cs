using System.Globalization;

namespace RemoteTest.Tasks;

/// <summary>How live values compare to a domain's named states, with the original's tie-breaking order.</summary>
public sealed record DnsStateMatch(string State, string? ClosestState, IReadOnlyList<string>? MixedStates)
{
    public const string Unknown = DnsVerdict.Unknown;

    public static readonly DnsStateMatch NoMatch = new(Unknown, null, null);

    /// <summary>
    /// The first state, in the order numeric names descending, then "original", then the rest alphabetically,
    /// whose value set equals the live set; else unknown, with the closest state and whether the live set is
    /// two states at once (a migration half-way).
    /// </summary>
    /// <remarks>
    /// Linear in the states' values, plus pairs of distinct subsets of the live set for the mixed search (bounded by
    /// <c>Dns:MaxStatesPerDomain</c>); <paramref name="cancellationToken"/> is checked inside the pair loop, so a
    /// revoked or timed-out task stops here too.
    /// </remarks>
    public static DnsStateMatch Match(IReadOnlyList<string> retrieved, IReadOnlyDictionary<string, IReadOnlyList<string>> states,
        CancellationToken cancellationToken = default)
    {
        // Each live value gets a bit; a state is a bit set of the live values it holds, plus whether it holds others.
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var value in retrieved)
        {
            index.TryAdd(value, index.Count);
        }
        var words = Math.Max(1, (index.Count + 63) / 64);
        var full = new ulong[words];
        for (var b = 0; b < index.Count; b++)
        {
            full[b / 64] |= 1UL << (b % 64);
        }

        var ordered = Ordered(states.Keys);
        string? closest = null;
        var best = 0;
        // Non-empty subsets of the live set, first state of each distinct subset only, in priority order.
        var subsets = new List<(string Name, ulong[] Bits)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in ordered)
        {
            var bits = new ulong[words];
            var outside = false;
            var common = 0;
            foreach (var value in states[name])
            {
                if (index.TryGetValue(value, out var b))
                {
                    ref var word = ref bits[b / 64];
                    var mask = 1UL << (b % 64);
                    if ((word & mask) == 0)
                    {
                        word |= mask;
                        common++;
                    }
                }
                else
                {
                    outside = true;
                }
            }
            if (!outside && common == index.Count)
            {
                return new DnsStateMatch(name, null, null);
            }
            if (common > best)
            {
                (closest, best) = (name, common);
            }
            if (!outside && common > 0 && seen.Add(Convert.ToHexString(System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()))))
            {
                subsets.Add((name, bits));
            }
        }

        IReadOnlyList<string>? mixed = null;
        for (var i = 0; i < subsets.Count && mixed is null; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (var j = i + 1; j < subsets.Count; j++)
            {
                if (Covers(subsets[i].Bits, subsets[j].Bits, full))
                {
                    mixed = [subsets[i].Name, subsets[j].Name];
                    break;
                }
            }
        }
        return new DnsStateMatch(Unknown, closest, mixed);
    }

    private static bool Covers(ulong[] a, ulong[] b, ulong[] full)
    {
        for (var w = 0; w < full.Length; w++)
        {
            if ((a[w] | b[w]) != full[w])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>State names in the original's priority order.</summary>
    public static IReadOnlyList<string> Ordered(IEnumerable<string> names)
    {
        var list = names.ToList();
        var numeric = list.Where(n => IsPythonInt(n, out _)).OrderByDescending(n => { IsPythonInt(n, out var v); return v; });
        var others = list.Where(n => !IsPythonInt(n, out _) && n != "original").Order(StringComparer.Ordinal);
        return [.. numeric, .. list.Contains("original") ? ["original"] : Array.Empty<string>(), .. others];
    }

    /// <summary>The original's text line, character for character.</summary>
    public static string Render(string domain, string recordType, string state, IReadOnlyList<string> retrieved, string? error)
    {
        if (error is not null)
        {
            return $"Error querying {recordType} records for {domain}: {error}";
        }
        return state switch
        {
            Unknown => $"{domain}: is in state unknown {PythonList(retrieved)}",
            "original" => $"{domain}: is in state original",
            _ => $"{domain}: is in state {state}" + (recordType == "A" ? $" {PythonList(retrieved)}" : ""),
        };
    }

    /// <summary>A list of strings as Python's <c>str(list)</c> prints it.</summary>
    public static string PythonList(IEnumerable<string> values) =>
        "[" + string.Join(", ", values.Select(v => "'" + v.Replace("\\", "\\\\").Replace("'", "\\'") + "'")) + "]";

    // Python's int() accepts surrounding spaces, a sign and digit underscores; state names like "13056" are the case that matters.
    private static bool IsPythonInt(string s, out System.Numerics.BigInteger value) =>
        System.Numerics.BigInteger.TryParse(s.Trim().Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)
        && !s.StartsWith('_') && !s.EndsWith('_') && !s.Contains("__");
}
