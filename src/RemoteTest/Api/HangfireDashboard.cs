using Hangfire;
using Hangfire.Dashboard;

namespace RemoteTest.Api;

/// <summary>
/// Who may open the Hangfire dashboard. The security policy (Auth:*) registers its own implementation
/// (admins only); until then the default lets loopback clients in, as Hangfire itself does by default.
/// </summary>
public interface IDashboardAccess
{
    bool IsAllowed(HttpContext http);
}

/// <summary>Default <see cref="IDashboardAccess"/>: requests from this machine only.</summary>
public sealed class LocalDashboardAccess : IDashboardAccess
{
    public bool IsAllowed(HttpContext http) =>
        http.Connection.RemoteIpAddress is { } ip && System.Net.IPAddress.IsLoopback(ip);
}

/// <summary>The Hangfire dashboard at <c>/hangfire</c>: read-only (no retry, delete or trigger buttons), behind <see cref="IDashboardAccess"/>.</summary>
public static class HangfireDashboard
{
    public const string Path = "/hangfire";

    public static WebApplication UseRemoteTestDashboard(this WebApplication app)
    {
        var storage = app.Services.GetRequiredService<JobStorage>();
        app.UseHangfireDashboard(Path, new DashboardOptions
        {
            IsReadOnlyFunc = _ => true,
            DisplayStorageConnectionString = false,
            DashboardTitle = "RemoteTest jobs",
            AppPath = "/docs",
            Authorization = [new AccessFilter()],
        }, storage);
        return app;
    }

    private sealed class AccessFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context)
        {
            var http = context.GetHttpContext();
            return http.RequestServices.GetRequiredService<IDashboardAccess>().IsAllowed(http);
        }
    }
}
