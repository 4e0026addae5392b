using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace RemoteTest.Engine;

/// <summary>
/// The service's own instruments (meter <c>RemoteTest</c>). Names are already Prometheus-style; the
/// exporter adds <c>_total</c> to counters and the unit suffix (<c>_seconds</c>) to timed histograms.
/// </summary>
public sealed class RemoteTestMetrics
{
    public const string MeterName = "RemoteTest";

    /// <summary>Bucket bounds for task and probe durations: 5 ms to 10 min.</summary>
    private static readonly double[] DurationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly Counter<long> _submitted;
    private readonly Counter<long> _finished;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _pickup;
    private readonly Counter<long> _probes;
    private readonly Histogram<double> _probeDuration;
    private readonly Counter<long> _webhooks;
    private readonly Counter<long> _scheduleFires;
    private readonly ConcurrentDictionary<(string Host, string Port), (double Expiry, DateTimeOffset Seen)> _certificates = new();
    private readonly ObservabilityOptions _options;
    private readonly TimeProvider _time;

    public RemoteTestMetrics(IMeterFactory meters, ITaskQueue queue, RemoteTest.Store.IWorkerRegistry workers, ServiceRoles roles, RunningTasks running, IOptions<ObservabilityOptions> observabilityOptions, TimeProvider time, ILogger<RemoteTestMetrics> log)
    {
        _options = observabilityOptions.Value;
        _time = time;
        var meter = meters.Create(MeterName);
        _submitted = meter.CreateCounter<long>("remotetest_tasks_submitted", description: "Tasks accepted by POST /task or fired by a schedule.");
        _finished = meter.CreateCounter<long>("remotetest_tasks_finished", description: "Tasks that ended, by final state.");
        _duration = meter.CreateHistogram("remotetest_task_duration", "s", "Run time of a task, from start to end.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _pickup = meter.CreateHistogram("remotetest_task_pickup_latency", "s", "Time a task waited in its queue before a worker started it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _probes = meter.CreateCounter<long>("remotetest_probes", description: "Probes run by tasks, by probe kind and outcome (ok or an error_kind).");
        _probeDuration = meter.CreateHistogram("remotetest_probe_duration", "s", "Duration of probes that report one (TCP connect).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        _webhooks = meter.CreateCounter<long>("remotetest_webhook_deliveries", description: "Webhook deliveries, by outcome (delivered or failed).");
        _scheduleFires = meter.CreateCounter<long>("remotetest_schedule_fires", description: "Tasks started by schedules, by trigger (cron or manual).");

        meter.CreateObservableGauge("remotetest_tasks_running", () => (long)running.Count, description: "Tasks running in this process.");
        // Scrapes are rare (seconds apart), so the broker and the store are asked at scrape time; a queue is
        // reported when this node serves it or a live worker does.
        meter.CreateObservableGauge("remotetest_queue_depth", () => Guarded(log, () =>
        {
            // One process (embedded, memory): its own queues; the local registry would list every unfinished task.
            IEnumerable<string> served = workers is RemoteTest.Store.LocalWorkerRegistry ? []
                : workers.ListLiveAsync(time.GetUtcNow(), CancellationToken.None).GetAwaiter().GetResult().SelectMany(w => w.Queues);
            var names = served.Concat(roles.Worker ? roles.Queues : []).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            return names.Select(q => new Measurement<long>(queue.DepthAsync(q, CancellationToken.None).GetAwaiter().GetResult(),
                new KeyValuePair<string, object?>("queue", q))).ToList();
        }), description: "Tasks waiting in each queue (messages not yet handed to a worker).");
        meter.CreateObservableGauge("remotetest_workers_alive", () => Guarded(log, () =>
            [new Measurement<long>(workers.ListLiveAsync(time.GetUtcNow(), CancellationToken.None).GetAwaiter().GetResult().Count)]),
            description: "Worker processes with a recent heartbeat.");
        meter.CreateObservableGauge("remotetest_ssl_earliest_cert_expiry", ObserveCertificates,
            description: "Earliest expiry (Unix seconds) over the certificate chain last seen on each checked TLS endpoint (porttest and apptest), like blackbox_exporter's probe_ssl_earliest_cert_expiry.");
    }

    public void Submitted(string taskName, string queue) =>
        _submitted.Add(1, new("task_name", taskName), new("queue", queue));

    public void Started(string queue, TimeSpan waited) =>
        _pickup.Record(Math.Max(0, waited.TotalSeconds), new KeyValuePair<string, object?>("queue", queue));

    public void Finished(string taskName, string state, TimeSpan? duration)
    {
        _finished.Add(1, new("task_name", taskName), new("state", state));
        if (duration is { } d)
        {
            _duration.Record(d.TotalSeconds, new("task_name", taskName), new("state", state));
        }
    }

    public void Probe(string probe, string outcome, double? seconds)
    {
        _probes.Add(1, new("probe", probe), new("outcome", outcome));
        if (seconds is { } s)
        {
            _probeDuration.Record(s, new KeyValuePair<string, object?>("probe", probe));
        }
    }

    public void Webhook(bool delivered) => _webhooks.Add(1, new KeyValuePair<string, object?>("outcome", delivered ? "delivered" : "failed"));

    public void ScheduleFired(string trigger) => _scheduleFires.Add(1, new KeyValuePair<string, object?>("trigger", trigger));

    /// <summary>Remembers the certificate expiry last seen on an endpoint.</summary>
    public void Certificate(string host, string port, DateTimeOffset notAfter)
    {
        var now = _time.GetUtcNow();
        _certificates[(host, port)] = (notAfter.ToUnixTimeSeconds(), now);
        if (_certificates.Count > _options.MaxCertificateSeries)
        {
            // Bounded label cardinality: drop the endpoints seen longest ago.
            foreach (var old in _certificates.OrderBy(c => c.Value.Seen).Take(_certificates.Count - _options.MaxCertificateSeries).ToList())
            {
                _certificates.TryRemove(old);
            }
        }
    }

    private IEnumerable<Measurement<double>> ObserveCertificates()
    {
        var cutoff = _time.GetUtcNow() - _options.CertificateMetricTtl;
        foreach (var (key, value) in _certificates)
        {
            if (value.Seen < cutoff)
            {
                _certificates.TryRemove(key, out _);
                continue;
            }
            yield return new Measurement<double>(value.Expiry, new("host", key.Host), new("port", key.Port));
        }
    }

    /// <summary>A scrape must not fail because the broker or the store is briefly unreachable: report nothing instead.</summary>
    private static IEnumerable<Measurement<long>> Guarded(ILogger log, Func<IEnumerable<Measurement<long>>> observe)
    {
        try
        {
            return observe().ToList();
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "Could not read the queue or the worker registry for metrics");
            return [];
        }
    }
}
