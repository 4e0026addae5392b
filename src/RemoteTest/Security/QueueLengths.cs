using System.Collections.Concurrent;

namespace RemoteTest.Security;

/// <summary>
/// The waiting jobs of a queue, as the submission gate needs them against <c>Limits:MaxQueueLength</c>.
/// Scaled out, the depth is a round trip to the broker (a passive queue declare), too much to pay on every
/// POST. An answer is reused for a moment while it, plus every submission let through since, stays under the limit:
/// one process is refused exactly as before, and only near the limit is the engine asked each time. Other API
/// nodes, fan-outs and schedules enqueue too, so a cluster may pass the limit by what they queue in that moment.
/// </summary>
public sealed class QueueLengths(Engine.ITaskQueue jobs, TimeProvider time)
{
    /// <summary>How long one answer of the engine is reused at most.</summary>
    private static readonly TimeSpan ReuseFor = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    private sealed class Entry(long length, long at)
    {
        public long Length { get; } = length;

        public long At { get; } = at;

        /// <summary>Submissions let through on the strength of this answer.</summary>
        public long PassedSince;
    }

    /// <summary>
    /// The queue's length when it is at or over <paramref name="limit"/> (the caller refuses), else null, and the
    /// submission is counted as let through.
    /// </summary>
    public async ValueTask<long?> FullAsync(string queue, long limit, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(queue, out var entry) && time.GetElapsedTime(entry.At) < ReuseFor
            && entry.Length + Interlocked.Increment(ref entry.PassedSince) <= limit)
        {
            return null;
        }
        var length = await jobs.DepthAsync(queue, cancellationToken);
        if (length >= limit)
        {
            return length;
        }
        _entries[queue] = new Entry(length, time.GetTimestamp()) { PassedSince = 1 };
        return null;
    }
}
