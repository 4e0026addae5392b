using System.Net;

namespace RemoteTest.Probes;

/// <summary>How one trace is paced.</summary>
/// <param name="MaxHops">Highest TTL sent.</param>
/// <param name="Rounds">Probes per hop (MTR mode when above 1).</param>
/// <param name="ProbeTimeout">How long a probe's answer is waited for.</param>
/// <param name="Spacing">Between two sends of a round, so an answer from the target stops the higher TTLs being sent.</param>
/// <param name="RoundInterval">From the start of one round to the start of the next (at least).</param>
public sealed record TraceSettings(int MaxHops, int Rounds, TimeSpan ProbeTimeout, TimeSpan Spacing, TimeSpan RoundInterval);

/// <summary>A trace's probes, and why sending stopped early (e.g. no route to the target), if it did.</summary>
public sealed record TraceRun(IReadOnlyList<HopProbe> Probes, string? SendError);

/// <summary>One probe's fate: who answered how, and the round trip (null: lost).</summary>
public sealed record HopProbe(int Ttl, int Round, IPAddress? From, TraceAnswerKind? Kind, int IcmpCode, double? RttMs);

/// <summary>
/// Runs a trace: per round, TTL 1, 2, ... sent a little apart until some probe reaches the target (or a firewall
/// rejects), then every sent probe gets its timeout to answer. Later rounds send only as far as the end found.
/// </summary>
public static class HopTracer
{
    public static async Task<TraceRun> RunAsync(ITraceProbe probe, TraceSettings settings, TimeProvider time, CancellationToken cancellationToken)
    {
        var total = settings.MaxHops * settings.Rounds;
        var sentAt = new long[total];
        var answers = new TraceAnswer?[total];
        var done = new TaskCompletionSource[total];
        for (var i = 0; i < total; i++)
        {
            done[i] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        var endTtl = int.MaxValue;
        var gate = new Lock();
        string? sendError = null;

        using var listening = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var listener = probe.ListenAsync(answer =>
        {
            var id = answer.ProbeId;
            lock (gate)
            {
                if (id < 0 || id >= total || Volatile.Read(ref sentAt[id]) == 0 || answers[id] is not null)
                {
                    return;
                }
                answers[id] = answer;
                if (answer.Kind != TraceAnswerKind.TimeExceeded)
                {
                    endTtl = Math.Min(endTtl, id % settings.MaxHops + 1);
                }
            }
            done[id].TrySetResult();
        }, listening.Token);

        try
        {
            for (var round = 0; round < settings.Rounds; round++)
            {
                var roundStarted = time.GetTimestamp();
                var waits = new List<Task>();
                long lastSend = roundStarted;
                for (var ttl = 1; ttl <= settings.MaxHops; ttl++)
                {
                    lock (gate)
                    {
                        if (ttl > endTtl)
                        {
                            break;
                        }
                    }
                    var id = round * settings.MaxHops + ttl - 1;
                    lastSend = time.GetTimestamp();
                    Volatile.Write(ref sentAt[id], lastSend);
                    try
                    {
                        probe.Send(ttl, id);
                    }
                    catch (System.Net.Sockets.SocketException ex)
                    {
                        // The kernel refused the send (no route, no neighbour): the probe is lost and the trace says why.
                        sendError ??= $"sending the TTL {ttl} probe failed: {ex.Message}";
                        continue;
                    }
                    waits.Add(done[id].Task);
                    if (settings.Spacing > TimeSpan.Zero)
                    {
                        await Task.Delay(settings.Spacing, time, cancellationToken);
                    }
                }
                var left = settings.ProbeTimeout - time.GetElapsedTime(lastSend);
                if (left > TimeSpan.Zero)
                {
                    await Task.WhenAny(Task.WhenAll(waits), Task.Delay(left, time, cancellationToken));
                }
                cancellationToken.ThrowIfCancellationRequested();
                var rest = settings.RoundInterval - time.GetElapsedTime(roundStarted);
                if (round + 1 < settings.Rounds && rest > TimeSpan.Zero)
                {
                    await Task.Delay(rest, time, cancellationToken);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The task's deadline (or revocation): what was answered so far is the trace; the caller tells them apart.
        }
        finally
        {
            await listening.CancelAsync();
            await listener;
        }

        var probes = new List<HopProbe>();
        lock (gate)
        {
            for (var id = 0; id < total; id++)
            {
                if (sentAt[id] == 0)
                {
                    continue;
                }
                var ttl = id % settings.MaxHops + 1;
                var round = id / settings.MaxHops;
                // An answer that came after the probe's timeout is a loss, as for mtr.
                var a = answers[id];
                var rtt = a is null ? (double?)null : time.GetElapsedTime(sentAt[id], a.Timestamp).TotalMilliseconds;
                probes.Add(a is null || rtt > settings.ProbeTimeout.TotalMilliseconds
                    ? new HopProbe(ttl, round, null, null, -1, null)
                    : new HopProbe(ttl, round, a.From, a.Kind, a.IcmpCode, Math.Round(rtt!.Value, 3)));
            }
        }
        return new TraceRun(probes, sendError);
    }
}
