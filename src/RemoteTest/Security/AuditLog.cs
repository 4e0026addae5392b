using System.Text.Json.Nodes;
using RemoteTest.Store;

namespace RemoteTest.Security;

/// <summary>
/// Who did what, when and from where, as structured log events in the <c>RemoteTest.Audit</c> category (one
/// event id per action, every value a named property). Arguments are logged masked: never a secret.
/// </summary>
public sealed partial class AuditLog(ILoggerFactory loggers)
{
    public const string Category = "RemoteTest.Audit";

    /// <summary>The most characters of masked arguments one event carries.</summary>
    private const int MaxArgumentsLength = 2000;

    private readonly ILogger _log = loggers.CreateLogger(Category);

    /// <summary>A task was accepted and stored.</summary>
    public void TaskSubmitted(HttpContext http, Caller caller, TaskRecord task, IReadOnlyList<string> targets, JsonNode arguments) =>
        Submitted(_log, Clean(caller.Owner), Remote(http), task.Id, Clean(task.TaskName), Clean(task.Queue), Clean(Targets(targets)), Clean(Truncate(ArgumentSecrets.MaskAll(arguments).ToJsonString())));

    /// <summary>A fan-out was accepted: one event naming the group and every child task, by queue.</summary>
    public void GroupSubmitted(HttpContext http, Caller caller, Guid groupId, IReadOnlyList<TaskRecord> children, IReadOnlyList<string> targets, JsonNode arguments) =>
        GroupAccepted(_log, Clean(caller.Owner), Remote(http), groupId, Clean(children[0].TaskName), Clean(string.Join(",", children.Select(c => c.Queue))),
            Clean(string.Join(",", children.Select(c => $"{c.Queue}={c.Id}"))), Clean(Targets(targets)), Clean(Truncate(ArgumentSecrets.MaskAll(arguments).ToJsonString())));

    /// <summary>A submission was refused (bad input, a denied target, a limit).</summary>
    public void SubmissionRejected(HttpContext http, int status, string field, string error) =>
        Rejected(_log, Clean(http.Caller().Owner), Remote(http), status, Clean(Truncate(field)), Clean(Truncate(error)));

    public void AuthenticationFailed(HttpContext http, string why) =>
        AuthFailed(_log, Remote(http), Clean(http.Request.Method), PathOf(http), Clean(why));

    public void Forbidden(HttpContext http, Caller caller, string scope) =>
        ForbiddenScope(_log, Clean(caller.Owner), Remote(http), Clean(http.Request.Method), PathOf(http), Clean(scope));

    public void RateLimited(HttpContext http, string partition) =>
        Limited(_log, Clean(http.Caller().Owner), Remote(http), Clean(partition), Clean(http.Request.Method), PathOf(http));

    /// <summary>Any other action on a task (revoke, schedule changes): <paramref name="action"/> names it.</summary>
    public void TaskAction(HttpContext http, string action, string subject) =>
        Action(_log, Clean(http.Caller().Owner), Remote(http), Clean(action), Clean(Truncate(subject)));

    /// <summary>A browser-driven request was refused by <see cref="BrowserRequestGuard"/>; <paramref name="header"/> says which rule.</summary>
    public void BrowserRefused(HttpContext http, string header) =>
        Browser(_log, Remote(http), Clean(http.Request.Method), PathOf(http), header, Clean(Truncate(http.Request.Headers[header].ToString())));

    /// <summary>
    /// A value safe for one log line: CR, LF and every other control character (and U+2028/U+2029) written as an
    /// escape, so a request path or an argument cannot end the line and forge an event after it.
    /// </summary>
    public static string Clean(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return value ?? "";
        }
        if (!value.Any(NeedsEscape))
        {
            return value;
        }
        var clean = new System.Text.StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            clean.Append(c switch
            {
                '\r' => "\\r",
                '\n' => "\\n",
                '\t' => "\\t",
                _ when NeedsEscape(c) => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return clean.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029' or '\u0085';

    private static string PathOf(HttpContext http) => Clean(Truncate(http.Request.Path.Value ?? ""));

    private static string Remote(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private static string Targets(IReadOnlyList<string> targets) => string.Join(",", targets.Take(50)) + (targets.Count > 50 ? ",…" : "");

    private static string Truncate(string s) => s.Length <= MaxArgumentsLength ? s : s[..MaxArgumentsLength] + "…";

    [LoggerMessage(EventId = 7001, EventName = "TaskSubmitted", Level = LogLevel.Information,
        Message = "audit: {Principal} from {RemoteAddress} submitted task {TaskId} {TaskName} to queue {Queue}; targets {Targets}; arguments {Arguments}")]
    private static partial void Submitted(ILogger log, string principal, string remoteAddress, Guid taskId, string taskName, string queue, string targets, string arguments);

    [LoggerMessage(EventId = 7002, EventName = "SubmissionRejected", Level = LogLevel.Information,
        Message = "audit: {Principal} from {RemoteAddress} was refused ({Status}) on {Field}: {Error}")]
    private static partial void Rejected(ILogger log, string principal, string remoteAddress, int status, string field, string error);

    [LoggerMessage(EventId = 7003, EventName = "AuthenticationFailed", Level = LogLevel.Warning,
        Message = "audit: authentication failed from {RemoteAddress} on {Method} {Path}: {Reason}")]
    private static partial void AuthFailed(ILogger log, string remoteAddress, string method, string path, string reason);

    [LoggerMessage(EventId = 7004, EventName = "Forbidden", Level = LogLevel.Warning,
        Message = "audit: {Principal} from {RemoteAddress} lacks scope {Scope} for {Method} {Path}")]
    private static partial void ForbiddenScope(ILogger log, string principal, string remoteAddress, string method, string path, string scope);

    [LoggerMessage(EventId = 7005, EventName = "RateLimited", Level = LogLevel.Warning,
        Message = "audit: {Principal} from {RemoteAddress} was rate limited ({Partition}) on {Method} {Path}")]
    private static partial void Limited(ILogger log, string principal, string remoteAddress, string partition, string method, string path);

    [LoggerMessage(EventId = 7007, EventName = "GroupSubmitted", Level = LogLevel.Information,
        Message = "audit: {Principal} from {RemoteAddress} submitted group {GroupId} {TaskName} to queues {Queues}: tasks {Tasks}; targets {Targets}; arguments {Arguments}")]
    private static partial void GroupAccepted(ILogger log, string principal, string remoteAddress, Guid groupId, string taskName, string queues, string tasks, string targets, string arguments);

    [LoggerMessage(EventId = 7008, EventName = "BrowserRequestRefused", Level = LogLevel.Warning,
        Message = "audit: refused a browser request from {RemoteAddress} on {Method} {Path}: {Header} {Value} is not allowed")]
    private static partial void Browser(ILogger log, string remoteAddress, string method, string path, string header, string value);

    [LoggerMessage(EventId = 7006, EventName = "TaskAction", Level = LogLevel.Information,
        Message = "audit: {Principal} from {RemoteAddress} {Action} {Subject}")]
    private static partial void Action(ILogger log, string principal, string remoteAddress, string action, string subject);
}
