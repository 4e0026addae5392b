using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.Extensions.Options;
using RemoteTest.Store;

namespace RemoteTest.Security;

/// <summary>Who is calling: a token's name and scopes, or the anonymous caller.</summary>
/// <param name="Owner">Owns the tasks this caller submits: the token's name, or <see cref="AnonymousName"/>.</param>
public sealed record Caller(string Owner, IReadOnlySet<string> Scopes, bool Anonymous)
{
    /// <summary>The owner of tasks submitted without a token; no token may take this name.</summary>
    public const string AnonymousName = TokenFormat.AnonymousName;

    public const string ScopeClaim = "scope";

    public bool IsAdmin => Scopes.Contains(ApiScopes.Admin);

    public bool Has(string scope) => IsAdmin || Scopes.Contains(scope);

    /// <summary>A caller sees its own tasks; admin sees all. Another token's task answers 404, not 403, so ids are not confirmed.</summary>
    public bool CanSee(TaskRecord task) => Owns(task.Owner);

    /// <summary>Whether something owned by <paramref name="owner"/> (a task, a schedule) is this caller's to see and change.</summary>
    public bool Owns(string? owner) => IsAdmin || string.Equals(owner, Owner, StringComparison.Ordinal);

    /// <summary>The owner filter of a listing: null (everything) for admin, else the caller's own tasks.</summary>
    public string? ListingOwner => IsAdmin ? null : Owner;

    public static Caller From(ClaimsPrincipal user)
    {
        var identity = user.Identity;
        if (identity is not { IsAuthenticated: true })
        {
            return new Caller(AnonymousName, new HashSet<string>(), true);
        }
        var scopes = user.FindAll(ScopeClaim).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new Caller(identity.Name ?? AnonymousName, scopes, identity.AuthenticationType == BearerTokenHandler.AnonymousType);
    }
}

/// <summary>Reads the caller of a request.</summary>
public static class CallerExtensions
{
    public static Caller Caller(this HttpContext http) => Security.Caller.From(http.User);
}

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c> against the configured token hashes. Without a header the caller is
/// anonymous when anonymous access is on (always so with no tokens configured, which start-up allows on loopback only).
/// </summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiTokenDirectory tokens,
    IApiTokenStore stored,
    TimeProvider time,
    AuditLog audit) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string AnonymousType = "Anonymous";
    private const string Realm = "RemoteTest";
    private const string FailureKey = "remotetest.auth.failure";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            return tokens.Anonymous is { } anonymous
                ? Success(Caller.AnonymousName, anonymous, AnonymousType)
                : AuthenticateResult.NoResult();
        }
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return await Fail("the Authorization header must be 'Bearer <token>'");
        }
        var presented = header[7..].Trim();
        if (presented.Length is 0 or > 256)
        {
            return await Fail("the token is not valid");
        }
        var now = time.GetUtcNow();
        if (tokens.Find(presented) is { } configured)
        {
            return configured.Expires is { } expires && expires <= now
                ? await Fail("the token has expired")
                : Success(configured.Name, configured.Scopes, SchemeName);
        }
        // Tokens created through the admin API are read from the store on every request: a revocation or an
        // expiry takes effect at once, on every node, without a restart.
        if (await stored.FindTokenByHashAsync(ApiTokens.Hash(presented), Context.RequestAborted) is { } managed)
        {
            return managed.Unusable(now) is { } why ? await Fail(why) : Success(managed.Name, managed.Scopes, SchemeName);
        }
        return await Fail("the token is not valid");
    }

    private Task<AuthenticateResult> Fail(string why)
    {
        Context.Items[FailureKey] = why;
        audit.AuthenticationFailed(Context, why);
        return Task.FromResult(AuthenticateResult.Fail(why));
    }

    private AuthenticateResult Success(string name, IEnumerable<string> scopes, string type)
    {
        var identity = new ClaimsIdentity(type, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.Name, name));
        foreach (var scope in scopes)
        {
            identity.AddClaim(new Claim(Caller.ScopeClaim, scope));
        }
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = Context.Items[FailureKey] as string;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = failure is null
            ? $"Bearer realm=\"{Realm}\""
            : $"Bearer realm=\"{Realm}\", error=\"invalid_token\", error_description=\"{failure}\"";
        await Response.WriteAsJsonAsync(new
        {
            error = failure is null ? "an API token is required: send 'Authorization: Bearer <token>'" : $"unauthorized: {failure}",
            field = "Authorization",
        });
    }
}

/// <summary>The configured tokens by hash, and what an anonymous caller may do (null: anonymous callers are refused).</summary>
public sealed class ApiTokenDirectory
{
    private readonly Dictionary<string, ApiTokenOptions> _byHash;

    public ApiTokenDirectory(IOptions<Security.AuthOptions> authOptions)
    {
        var auth = authOptions.Value;
        _byHash = auth.Tokens.ToDictionary(t => t.Hash, StringComparer.Ordinal);
        ByName = auth.Tokens.ToDictionary(t => t.Name, StringComparer.Ordinal);
        // Anonymous callers never get admin by default: admin sees and changes every owner's tasks and tokens, and
        // an anonymous caller is anyone who reaches the port (any local user, any page a local browser opens).
        Anonymous = auth.Tokens.Length == 0 || auth.AllowAnonymous
            ? (auth.AnonymousScopes.Length > 0 ? auth.AnonymousScopes : [ApiScopes.Submit, ApiScopes.Read])
            : null;
    }

    public IReadOnlyDictionary<string, ApiTokenOptions> ByName { get; }

    public IReadOnlyList<string>? Anonymous { get; }

    public bool Configured => ByName.Count > 0;

    public ApiTokenOptions? Find(string token) =>
        token.Length is > 0 and <= 256 && _byHash.TryGetValue(ApiTokens.Hash(token), out var t) ? t : null;
}

/// <summary>A route's scope: met by a token holding it, or admin.</summary>
public sealed class ScopeRequirement(string scope) : AuthorizationHandler<ScopeRequirement>, IAuthorizationRequirement
{
    public string Scope { get; } = scope;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (Caller.From(context.User).Has(requirement.Scope))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>403 as JSON naming the missing scope, with RFC 6750's <c>insufficient_scope</c>; everything else as ASP.NET Core does it.</summary>
public sealed class ScopeForbiddenHandler(AuditLog audit) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Forbidden)
        {
            var failed = authorizeResult.AuthorizationFailure?.FailedRequirements.ToList() ?? [];
            var scope = failed.OfType<ScopeRequirement>().FirstOrDefault()?.Scope
                ?? (failed.OfType<MethodScopeRequirement>().Any() ? MethodScopeRequirement.ScopeFor(context.Request.Method) : ApiScopes.Admin);
            var caller = context.Caller();
            audit.Forbidden(context, caller, scope);
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.Headers.WWWAuthenticate = $"Bearer realm=\"RemoteTest\", error=\"insufficient_scope\", scope=\"{scope}\"";
            await context.Response.WriteAsJsonAsync(new
            {
                error = $"forbidden: {(caller.Anonymous ? "anonymous callers do" : $"token '{caller.Owner}' does")} not have the '{scope}' scope",
                field = "Authorization",
            });
            return;
        }
        await _default.HandleAsync(next, context, policy, authorizeResult);
    }
}
