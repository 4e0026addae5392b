using Hangfire;
using Hangfire.Dashboard;
using RemoteTest.Security;

namespace RemoteTest.Api;

/// <summary>Who may open the Hangfire dashboard: the security policy's admins (a test may replace it).</summary>
public interface IDashboardAccess
{
    bool IsAllowed(HttpContext http);
}

/// <summary>Default <see cref="IDashboardAccess"/>: callers with the admin scope (anonymous ones only when no tokens exist).</summary>
public sealed class AdminDashboardAccess(ApiTokenDirectory tokens) : IDashboardAccess
{
    // Without tokens there is one tenant, and the read-only dashboard shows only its own jobs.
    public bool IsAllowed(HttpContext http) => http.Caller().IsAdmin || (!tokens.Configured && http.Caller().Anonymous);
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
