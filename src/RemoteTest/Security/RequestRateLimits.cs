using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace RemoteTest.Security;

/// <summary>
/// Rate limiting per token (per client address for anonymous callers) with ASP.NET Core's rate limiter: a fixed
/// window aligned to multiples of <c>Limits:RateLimit:Window</c>, 429 with Retry-After past the limit, and
/// <c>X-RateLimit-Limit</c>/<c>-Remaining</c>/<c>-Reset</c> (seconds until the window resets) on every answer.
/// </summary>
public sealed class RequestRateLimits(IOptions<LimitsOptions> limitsOptions, ApiTokenDirectory tokens, TimeProvider time, AuditLog audit)
{
    private readonly ConcurrentDictionary<string, AlignedWindowLimiter> _limiters = new(StringComparer.Ordinal);
    private readonly TimeSpan _window = limitsOptions.Value.RateLimit.Window;
    private readonly int _defaultLimit = limitsOptions.Value.RateLimit.PermitLimit;
    private int _sweep;

    /// <summary>The partition of a request and its permit limit (0: not limited).</summary>
    public (string Key, int Limit) PartitionOf(HttpContext http)
    {
        var caller = http.Caller();
        if (!caller.Anonymous && http.User.Identity?.IsAuthenticated == true)
        {
            var limit = tokens.ByName.TryGetValue(caller.Owner, out var t) && t.RateLimit is { } own ? own : _defaultLimit;
            return ($"token:{caller.Owner}", limit);
        }
        return ($"address:{http.Connection.RemoteIpAddress}", _defaultLimit);
    }

    /// <summary>Registers the limiter in ASP.NET Core's rate-limiting middleware.</summary>
    public void Configure(RateLimiterOptions o)
    {
        o.GlobalLimiter = new Partitions(this);
        o.OnRejected = async (context, cancellationToken) =>
        {
            var http = context.HttpContext;
            var (key, limit) = PartitionOf(http);
            var retry = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : _window;
            audit.RateLimited(http, key);
            http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            http.Response.Headers.RetryAfter = Seconds(retry);
            await http.Response.WriteAsJsonAsync(new
            {
                error = $"rate limit exceeded: at most {limit} requests per {_window.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s; retry in {Seconds(retry)} s",
                field = "rate_limit",
            }, cancellationToken);
        };
    }

    /// <summary>
    /// The rate-limiting middleware: what ASP.NET Core's <c>UseRateLimiter()</c> does with a global limiter and no
    /// endpoint policies — a lease per request; refused, the options' rejection status and <c>OnRejected</c>.
    /// </summary>
    public static Func<RequestDelegate, RequestDelegate> Enforce(RateLimiterOptions o) => next => async http =>
    {
        if (o.GlobalLimiter is not { } limiter)
        {
            await next(http);
            return;
        }
        using var lease = await limiter.AcquireAsync(http, 1, http.RequestAborted);
        if (lease.IsAcquired)
        {
            await next(http);
            return;
        }
        http.Response.StatusCode = o.RejectionStatusCode;
        if (o.OnRejected is { } rejected)
        {
            await rejected(new OnRejectedContext { HttpContext = http, Lease = lease }, http.RequestAborted);
        }
    };

    /// <summary>Middleware that writes the X-RateLimit headers when the answer starts, whatever it is.</summary>
    public RequestDelegate Headers(RequestDelegate next) => http =>
    {
        http.Response.OnStarting(() =>
        {
            var (key, limit) = PartitionOf(http);
            if (limit > 0)
            {
                var (remaining, reset) = _limiters.TryGetValue(key, out var l) ? l.Snapshot() : (limit, AlignedWindowLimiter.UntilNextWindow(time, _window));
                http.Response.Headers["X-RateLimit-Limit"] = limit.ToString(CultureInfo.InvariantCulture);
                http.Response.Headers["X-RateLimit-Remaining"] = remaining.ToString(CultureInfo.InvariantCulture);
                http.Response.Headers["X-RateLimit-Reset"] = Seconds(reset);
            }
            return Task.CompletedTask;
        });
        return next(http);
    };

    private AlignedWindowLimiter Limiter(string key, int limit)
    {
        // Drop partitions whose window has passed now and then: anonymous callers make one per address.
        if (Interlocked.Increment(ref _sweep) % 1024 == 0)
        {
            foreach (var (k, v) in _limiters)
            {
                if (v.IdleDuration is not null)
                {
                    _limiters.TryRemove(new KeyValuePair<string, AlignedWindowLimiter>(k, v));
                }
            }
        }
        if (_limiters.TryGetValue(key, out var known) && known.Limit == limit)
        {
            return known;
        }
        lock (_sweeperLock)
        {
            // Idle partitions are swept every second while there are any; with none (no traffic, or rate limiting
            // off) nothing wakes up.
            _sweeper ??= time.CreateTimer(_ => SweepIdle(), null, SweepInterval, SweepInterval);
            return _limiters.AddOrUpdate(key, _ => new AlignedWindowLimiter(limit, _window, time), (_, existing) => existing.Limit == limit ? existing : new AlignedWindowLimiter(limit, _window, time));
        }
    }

    /// <summary>How often idle partitions are dropped while some exist (the runtime's partitioned limiter looked every 100 ms).</summary>
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    private readonly Lock _sweeperLock = new();
    private ITimer? _sweeper;

    private void SweepIdle()
    {
        foreach (var (k, v) in _limiters)
        {
            if (v.IdleDuration is not null)
            {
                _limiters.TryRemove(new KeyValuePair<string, AlignedWindowLimiter>(k, v));
            }
        }
        lock (_sweeperLock)
        {
            if (_limiters.IsEmpty)
            {
                _sweeper?.Dispose();
                _sweeper = null;
            }
        }
    }

    /// <summary>
    /// The partitions: this class's own dictionary of <see cref="AlignedWindowLimiter"/>s, which roll their window
    /// on use and are swept above. Not <c>PartitionedRateLimiter.Create</c>: its 100 ms heartbeat timer (for
    /// limiters that replenish, which these do not) woke every node ten times a second while idle, a third of an
    /// idle node's CPU (bench/README.md).
    /// </summary>
    private sealed class Partitions(RequestRateLimits owner) : PartitionedRateLimiter<HttpContext>
    {
        private static readonly RateLimitLease Unlimited = new NoLimitLease();

        // The partitions, under the name the runtime's partitioned limiter gave them (RateLimitPartitionTests counts them).
        private readonly ConcurrentDictionary<string, AlignedWindowLimiter> _limiters = owner._limiters;

        public override RateLimiterStatistics? GetStatistics(HttpContext resource) =>
            owner.PartitionOf(resource) is var (key, limit) && limit > 0 ? owner.Limiter(key, limit).GetStatistics() : null;

        protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
        {
            var (key, limit) = owner.PartitionOf(resource);
            return limit <= 0 ? Unlimited : owner.Limiter(key, limit).AttemptAcquire(permitCount);
        }

        // Never queues: a request past the limit is answered at once.
        protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

        private sealed class NoLimitLease : RateLimitLease
        {
            public override bool IsAcquired => true;

            public override IEnumerable<string> MetadataNames => [];

            public override bool TryGetMetadata(string metadataName, out object? metadata)
            {
                metadata = null;
                return false;
            }

            // Shared by every unlimited request: nothing to release.
            protected override void Dispose(bool disposing)
            {
            }
        }
    }

    private static string Seconds(TimeSpan t) => Math.Max(1, (int)Math.Ceiling(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A fixed-window limiter whose windows start at multiples of the window length (UTC), so the reset time is known
/// and the same on every node. It never queues: a request past the limit is rejected at once with Retry-After.
/// </summary>
public sealed class AlignedWindowLimiter(int limit, TimeSpan window, TimeProvider time) : RateLimiter
{
    private readonly Lock _lock = new();
    private long _windowIndex = -1;
    private int _used;
    private long _lastRequestTicks = time.GetUtcNow().UtcTicks;

    public int Limit => limit;

    public static TimeSpan UntilNextWindow(TimeProvider time, TimeSpan window)
    {
        var now = time.GetUtcNow().UtcTicks;
        return TimeSpan.FromTicks(window.Ticks - now % window.Ticks);
    }

    /// <summary>Permits left in the current window and the time until it resets.</summary>
    public (int Remaining, TimeSpan Reset) Snapshot()
    {
        lock (_lock)
        {
            Roll();
            return (limit - _used, UntilNextWindow(time, window));
        }
    }

    /// <summary>
    /// Null while the current window has permits in use; otherwise how long since the last request: the sweep in
    /// <see cref="RequestRateLimits"/> drops a partition that is not null here.
    /// </summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_lock)
            {
                if (Index() == _windowIndex && _used > 0)
                {
                    return null;
                }
                return TimeSpan.FromTicks(Math.Max(0, time.GetUtcNow().UtcTicks - _lastRequestTicks));
            }
        }
    }

    public override RateLimiterStatistics? GetStatistics() => new() { CurrentAvailablePermits = Snapshot().Remaining };

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_lock)
        {
            Roll();
            _lastRequestTicks = time.GetUtcNow().UtcTicks;
            if (_used + permitCount <= limit)
            {
                _used += permitCount;
                return Lease.Acquired;
            }
            return new Lease(false, UntilNextWindow(time, window));
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    // Nothing to release; idle partitions are swept, and a window from the past equals a fresh one.
    protected override void Dispose(bool disposing)
    {
    }

    private long Index() => time.GetUtcNow().UtcTicks / window.Ticks;

    private void Roll()
    {
        var index = Index();
        if (index != _windowIndex)
        {
            _windowIndex = index;
            _used = 0;
        }
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Acquired = new(true, null);

        public override bool IsAcquired { get; } = acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = retryAfter;
            return retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}
