using System.Text.Json;
using RemoteTest.Api;

namespace RemoteTest.Security;

/// <summary>An endpoint filter that writes every refused submission (4xx) to the audit log with its error and field.</summary>
public static class SubmissionAudit
{
    public static async ValueTask<object?> FilterAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var result = await next(context);
        if (result is IStatusCodeHttpResult { StatusCode: >= 400 and < 500 } status)
        {
            string field = "", error = "";
            if (result is IValueHttpResult { Value: { } value })
            {
                var json = JsonSerializer.SerializeToElement(value);
                field = json.TryGetProperty("field", out var f) ? f.ToString() : "";
                error = json.TryGetProperty("error", out var e) ? e.ToString() : "";
            }
            var http = context.HttpContext;
            http.RequestServices.GetRequiredService<AuditLog>().SubmissionRejected(http, status.StatusCode!.Value, field, error);
        }
        return result;
    }
}
