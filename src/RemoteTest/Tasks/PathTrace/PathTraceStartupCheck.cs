using RemoteTest.Probes;

namespace RemoteTest.Tasks;

/// <summary>Says at start-up, once, whether <c>path.trace</c> can use raw sockets here (CAP_NET_RAW), so a missing grant is not found by a failed task.</summary>
public sealed class PathTraceStartupCheck(TraceSockets sockets, ILogger<PathTraceStartupCheck> log) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (sockets.RawAllowed())
        {
            log.LogInformation("path.trace: raw sockets available (CAP_NET_RAW): TCP, UDP and ICMP traces enabled");
        }
        else
        {
            log.LogWarning(
                "path.trace: raw sockets NOT permitted (no CAP_NET_RAW): tcp and udp traces will fail with error_kind not_permitted, icmp falls back to unprivileged ping sockets. Grant it with AmbientCapabilities=CAP_NET_RAW (see deploy/) or setcap cap_net_raw+ep");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
