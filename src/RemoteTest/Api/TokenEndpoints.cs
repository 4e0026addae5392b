using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using RemoteTest.Security;
using RemoteTest.Tasks;

namespace RemoteTest.Api;

/// <summary>
/// <c>/tokens</c> (admin): API tokens managed at run time, kept in the task store beside the configuration file's.
/// <c>POST</c> creates one and shows it once, <c>GET</c> lists them (never a token or a hash), <c>DELETE /tokens/{name}</c>
/// revokes one at once on every node.
/// </summary>
public static class TokenEndpoints
{
    private static readonly HashSet<string> Members = ["name", "scopes", "expires", "rate_limit"];

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/tokens").WithTags("Tokens").RequireAuthorization(SecuritySetup.AdminPolicy);
        group.MapPost("/", CreateAsync).WithName("CreateToken").WithSummary("Create an API token (admin); the token is shown once");
        group.MapGet("/", ListAsync).WithName("ListTokens").WithSummary("Every API token, configured and managed (admin)");
        group.MapDelete("/{name}", RevokeAsync).WithName("RevokeToken").WithSummary("Revoke a managed API token at once (admin)");
        return app;
    }

    private static async Task<IResult> CreateAsync(HttpContext http, IApiTokenStore store, ApiTokenDirectory configured, AuditLog audit,
        IOptions<Security.AuthOptions> authOptions, IOptions<LimitsOptions> limitsOptions, TimeProvider time, CancellationToken cancellationToken)
    {
        JsonNode? body;
        try
        {
            body = await RequestJson.ReadAsync(http.Request, limitsOptions.Value.MaxRequestBytes, cancellationToken);
        }
        catch (JsonException ex)
        {
            return TaskEndpoints.Error(400, "body", $"Invalid JSON body: {ex.Message}");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TaskEndpoints.Error(StatusCodes.Status413PayloadTooLarge, "body", "request body is too large");
        }
        if (body is not JsonObject o)
        {
            return TaskEndpoints.Error(400, "body", "Invalid JSON body: expected an object like {\"name\": \"ci-bot\", \"scopes\": [\"submit\", \"read\"], \"expires\": \"90d\"}");
        }
        var now = time.GetUtcNow();
        string name;
        List<string> scopes;
        DateTimeOffset? expires = null;
        int? rateLimit = null;
        try
        {
            foreach (var (key, _) in o)
            {
                if (!Members.Contains(key))
                {
                    throw new TaskArgumentException(key, $"unexpected member '{key}'; a token has {string.Join(", ", Members)}");
                }
            }
            name = ArgumentReader.String(o["name"] ?? throw new TaskArgumentException("name", "Missing 'name'"), "name", 64);
            var list = ArgumentReader.Array(o["scopes"] ?? throw new TaskArgumentException("scopes", "Missing 'scopes'"), "scopes");
            scopes = list.Select((s, i) => ArgumentReader.String(s, ArgumentReader.Element("scopes", i), 16)).Distinct().ToList();
            if (TokenFormat.Problems("", name, scopes).FirstOrDefault() is { } problem)
            {
                throw new TaskArgumentException(problem.StartsWith("Name", StringComparison.Ordinal) ? "name" : "scopes", problem);
            }
            if (o["expires"] is { } e)
            {
                var text = ArgumentReader.String(e, "expires", 64);
                expires = TokenExpiry.Parse(text, now, out var error) ?? throw new TaskArgumentException("expires", error!);
            }
            if (o["rate_limit"] is { } r)
            {
                rateLimit = ArgumentReader.Integer(r, "rate_limit", 0, 1_000_000);
            }
        }
        catch (TaskArgumentException ex)
        {
            return TaskEndpoints.Error(400, ex.Field, ex.Message);
        }
        if (configured.ByName.ContainsKey(name))
        {
            return TaskEndpoints.Error(StatusCodes.Status409Conflict, "name", $"token '{name}' is configured in the settings file; choose another name");
        }
        var token = ApiTokens.New();
        var record = new StoredApiToken(name, ApiTokens.Hash(token), scopes, rateLimit, now, expires, null);
        if (!await store.AddTokenAsync(record, cancellationToken))
        {
            return TaskEndpoints.Error(StatusCodes.Status409Conflict, "name", $"a token named '{name}' exists (revoked tokens keep their name)");
        }
        audit.TaskAction(http, "created", $"token {name} with scopes {string.Join(",", scopes)}{(expires is null ? "" : $", expiring {expires:O}")}");
        var json = Describe(record, "store");
        json["token"] = token;
        return TypedResults.Json(json, statusCode: StatusCodes.Status201Created).WithLocation($"/tokens/{Uri.EscapeDataString(name)}");
    }

    private static async Task<IResult> ListAsync(IApiTokenStore store, IOptions<Security.AuthOptions> authOptions, CancellationToken cancellationToken)
    {
        var list = new JsonArray();
        foreach (var t in authOptions.Value.Tokens.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            list.Add(new JsonObject
            {
                ["name"] = t.Name,
                ["scopes"] = new JsonArray(t.Scopes.Select(s => (JsonNode)s).ToArray()),
                ["expires"] = t.Expires?.UtcDateTime.ToString("O"),
                ["revoked"] = null,
                ["source"] = "config",
            });
        }
        foreach (var t in await store.ListTokensAsync(cancellationToken))
        {
            list.Add(Describe(t, "store"));
        }
        return TypedResults.Json(new JsonObject { ["tokens"] = list, ["count"] = list.Count });
    }

    private static async Task<IResult> RevokeAsync(string name, HttpContext http, IApiTokenStore store, ApiTokenDirectory configured, AuditLog audit,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (configured.ByName.ContainsKey(name))
        {
            return TaskEndpoints.Error(StatusCodes.Status409Conflict, "name", $"token '{name}' is configured in the settings file; remove it there (and restart) to revoke it");
        }
        if (!await store.RevokeTokenAsync(name, time.GetUtcNow(), cancellationToken))
        {
            return TaskEndpoints.Error(StatusCodes.Status404NotFound, "name", $"no active token named '{name}'");
        }
        audit.TaskAction(http, "revoked", $"token {name}");
        return TypedResults.NoContent();
    }

    private static JsonObject Describe(StoredApiToken t, string source) => new()
    {
        ["name"] = t.Name,
        ["scopes"] = new JsonArray(t.Scopes.Select(s => (JsonNode)s).ToArray()),
        ["created"] = WorkerEndpoints.Wire(t.Created),
        ["expires"] = t.Expires is { } e ? WorkerEndpoints.Wire(e) : null,
        ["revoked"] = t.Revoked is { } r ? WorkerEndpoints.Wire(r) : null,
        ["source"] = source,
    };
}
