using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace RemoteTest.Tasks;

/// <summary>The result: the original's <c>{"summary", "results"}</c>, with fields added and none renamed.</summary>
public sealed record AppTestResult(AppTestSummary Summary, IReadOnlyDictionary<string, IReadOnlyDictionary<string, AppCheckResult>> Results);

/// <summary>The original's <c>hosts</c>, <c>apps_attempted</c>, <c>duration_sec</c>, <c>features</c>, and more.</summary>
public sealed record AppTestSummary
{
    /// <summary>Hosts in the task.</summary>
    public required int Hosts { get; init; }

    /// <summary>Host × application checks in the task.</summary>
    public required int AppsAttempted { get; init; }

    /// <summary>Wall time of the whole task, seconds.</summary>
    public required double DurationSec { get; init; }

    /// <summary>The original's capability flags, plus the checks added since, for clients that gate on them.</summary>
    public required IReadOnlyDictionary<string, bool> Features { get; init; }

    /// <summary>Every application of every host passed.</summary>
    public required bool Ok { get; init; }

    /// <summary>Checks that passed.</summary>
    public required int AppsOk { get; init; }

    /// <summary>Checks that failed.</summary>
    public required int AppsFailed { get; init; }

    /// <summary>The task's timeout, seconds.</summary>
    public required double Timeout { get; init; }

    /// <summary>Whether certificates were enforced.</summary>
    public required bool VerifySsl { get; init; }
}

/// <summary>
/// One application on one host: the original's <c>{"ok", "error", "details"}</c>, with <c>error_kind</c> for every
/// failure, how sure the catalog is of this check, and which of its checks failed (also when others passed).
/// </summary>
public sealed record AppCheckResult
{
    /// <summary>The application answered and accepted the test user.</summary>
    public required bool Ok { get; init; }

    /// <summary>Why not, in the original's wording (e.g. <c>Login failed: ...</c>), else null.</summary>
    public string? Error { get; init; }

    /// <summary>The failure in the shared vocabulary (<c>refused</c>, <c>auth_failed</c>, <c>mtls_required</c>, ...).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ErrorKind { get; init; }

    /// <summary>Every request made: status, timings, TLS facts, the server's own error text.</summary>
    public required JsonObject Details { get; init; }

    /// <summary>How sure the catalog is of this check: <c>high</c>, <c>medium</c> or <c>low</c>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Confidence { get; init; }

    /// <summary>The halves that failed (<c>oci_tls</c>, <c>profile http</c>), even when the application passed.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? FailedChecks { get; init; }
}
