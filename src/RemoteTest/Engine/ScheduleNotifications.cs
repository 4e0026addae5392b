using System.Text.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Engine;

/// <summary>What a webhook announces: the event name, a one-line human summary and the changes behind it.</summary>
public sealed record WebhookNotification(string Event, string? Summary, IReadOnlyList<OutcomeChange> Changes)
{
    /// <summary>Every ready task of a webhook without a <c>notify</c> filter.</summary>
    public static readonly WebhookNotification Ready = new("task.ready", null, []);
}

/// <summary>One difference between two runs of a schedule, e.g. <c>akixi.altvoip.com: original → 13056</c>.</summary>
public sealed record OutcomeChange(string Key, string? From, string? To)
{
    public override string ToString() => $"{Key}: {From ?? "absent"} → {To ?? "absent"}";
}

/// <summary>
/// Decides, for a schedule's run, whether its webhook is called: <c>notify: "change"</c> when the outcome
/// differs from the previous run's, <c>notify: "cert_expiry"</c> when a certificate's days left fall below a
/// threshold not yet announced for it. The state kept between runs is a small JSON document on the schedule.
/// </summary>
public static class ScheduleNotifications
{
    public const string Change = "change";
    public const string CertExpiry = "cert_expiry";

    /// <summary>The values of <c>notify</c> a schedule may carry (besides <c>baseline:NAME</c>).</summary>
    public static readonly string[] Kinds = [Change, CertExpiry];

    /// <summary><c>notify: "baseline:NAME"</c>: each run is compared with the owner's baseline NAME; the webhook is called when it differs.</summary>
    public const string BaselinePrefix = "baseline:";

    /// <summary>The event of a run that differs from its baseline.</summary>
    public const string BaselineDiff = "baseline_diff";

    /// <summary>The baseline a <c>notify</c> value names, else null.</summary>
    public static string? BaselineName(string? notify) =>
        notify is not null && notify.StartsWith(BaselinePrefix, StringComparison.Ordinal) ? notify[BaselinePrefix.Length..] : null;

    /// <summary>The notification for a run compared with its baseline (a <c>TaskDiff</c> document); null when nothing differs.</summary>
    public static WebhookNotification? BaselineNotification(string baseline, JsonObject diff)
    {
        if (diff["changed"] is not JsonValue changed || !changed.GetValue<bool>())
        {
            return null;
        }
        static string? Text(JsonNode? n) => n is null ? null : n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : n.ToJsonString();
        var changes = (diff["differences"] as JsonArray ?? []).OfType<JsonObject>()
            .Select(d => new OutcomeChange(Text(d["key"]) ?? "?", Text(d["from"]), Text(d["to"]))).ToList();
        var s = diff["summary"];
        return new WebhookNotification(BaselineDiff,
            $"differs from baseline {baseline} ({s?["changed"]} changed, {s?["added"]} added, {s?["removed"]} removed): " + string.Join("; ", changes.Take(20)),
            changes);
    }

    /// <summary>Returns the outcome to store for the next run, and the notification to send, if any.</summary>
    public static (string Outcome, WebhookNotification? Notification) Evaluate(
        string? notify, IReadOnlyList<int> thresholds, string? previousOutcome, string taskState, ResultObservations observed)
    {
        var previous = Parse(previousOutcome);
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["task"] = taskState };
        foreach (var (k, v) in observed.Outcome)
        {
            values[k] = v;
        }

        var levels = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var crossed = new List<(CertificateObservation Cert, int Threshold)>();
        foreach (var cert in observed.Certificates)
        {
            // The lowest threshold the certificate is at or below; announced once per threshold, again after renewal.
            int? level = thresholds.Where(t => cert.DaysLeft <= t).Select(t => (int?)t).Min();
            var before = previous.Levels.TryGetValue(cert.Endpoint, out var b) ? b : (int?)null;
            if (level is { } l)
            {
                levels[cert.Endpoint] = l;
                if (before is null || l < before)
                {
                    crossed.Add((cert, l));
                }
            }
        }
        // A certificate not seen in this run (host down) keeps the level it had, so it is not announced again.
        foreach (var (endpoint, level) in previous.Levels)
        {
            if (!levels.ContainsKey(endpoint) && !observed.Certificates.Any(c => c.Endpoint == endpoint))
            {
                levels[endpoint] = level;
            }
        }

        var outcome = new JsonObject
        {
            ["values"] = new JsonObject(values.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
            ["cert_levels"] = new JsonObject(levels.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
        }.ToJsonString();

        WebhookNotification? notification = notify switch
        {
            null => WebhookNotification.Ready,
            Change when previous.Values is { } before => ChangeNotification(before, values),
            CertExpiry when crossed.Count > 0 => new WebhookNotification(CertExpiry,
                string.Join("; ", crossed.Select(c => $"{c.Cert.Endpoint}: {(c.Cert.Subject is { } who ? $"chain certificate '{who}'" : "certificate")} expires in {Math.Floor(c.Cert.DaysLeft):0} days ({c.Cert.NotAfter.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}), below {c.Threshold} days")),
                crossed.Select(c => new OutcomeChange(c.Cert.Endpoint, null, $"{Math.Floor(c.Cert.DaysLeft):0} days left")).ToList()),
            _ => null,
        };
        return (outcome, notification);
    }

    private static WebhookNotification? ChangeNotification(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> now)
    {
        var changes = before.Keys.Union(now.Keys).Order(StringComparer.Ordinal)
            .Select(k => new OutcomeChange(k, before.GetValueOrDefault(k), now.GetValueOrDefault(k)))
            .Where(c => c.From != c.To)
            .ToList();
        return changes.Count == 0 ? null : new WebhookNotification(Change, string.Join("; ", changes), changes);
    }

    private static (IReadOnlyDictionary<string, string>? Values, IReadOnlyDictionary<string, int> Levels) Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return (null, new Dictionary<string, int>());
        }
        try
        {
            var o = JsonNode.Parse(json) as JsonObject;
            var values = (o?["values"] as JsonObject)?.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString() ?? "");
            var levels = (o?["cert_levels"] as JsonObject)?.Where(kv => kv.Value is JsonValue)
                .ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>()) ?? [];
            return (values, levels);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            return (null, new Dictionary<string, int>());
        }
    }
}
