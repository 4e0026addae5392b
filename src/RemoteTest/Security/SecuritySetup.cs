using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using Microsoft.AspNetCore.WebUtilities;

namespace RemoteTest.Security;

/// <summary>Wires authentication, the target guard, limits, headers, CORS and the key ring into the service.</summary>
public static class SecuritySetup
{
    /// <summary>Name of the policy that needs the admin scope (tokens, /metrics with tokens, other tokens' tasks).</summary>
    public const string AdminPolicy = "admin";

    /// <summary>
    /// Name of the policy of <c>/metrics</c>: its certificate gauge names every checked host and port, whoever
    /// submitted the check, so with tokens configured (several tenants) it needs admin; without tokens (one tenant,
    /// on loopback or behind AllowAnonymous) the read scope suffices.
    /// </summary>
    public const string MetricsPolicy = "metrics";

    /// <summary>
    /// Registers the security services and checks their configuration; throws <see cref="StartupException"/>
    /// for a bad value, or for no tokens on a non-loopback address without <c>Auth:AllowAnonymous</c>.
    /// </summary>
    /// <returns>The certificate that encrypts the key ring, if configured: pass it to <see cref="AddKeyRing"/>.</returns>
    public static X509Certificate2? AddSecurity(this WebApplicationBuilder builder, RemoteTestOptions options, ServiceRoles roles, string defaultUrl)
    {
        var problems = Validate(options).ToList();
        if (problems.Count > 0)
        {
            throw new StartupException(string.Join("; ", problems));
        }

        var urls = ListenAddresses.From(builder.Configuration, defaultUrl);
        if (urls.Select(ListenAddresses.Problem).FirstOrDefault(p => p is not null) is { } badUrl)
        {
            throw new StartupException($"urls: {badUrl}");
        }
        var loopbackOnly = ListenAddresses.AreLoopbackOnly(urls);
        // A worker-only node serves /healthz and /metrics: the same rule as an API node.
        if (options.Auth.Tokens.Length == 0 && !loopbackOnly && !options.Auth.AllowAnonymous)
        {
            throw new StartupException(
                $"{RemoteTestOptions.Section}:Auth: no API tokens are configured and the service would listen on {string.Join(", ", urls.Where(u => !ListenAddresses.IsLoopback(u)))}, " +
                $"which is not loopback; add tokens ('RemoteTest token new --name NAME --scopes submit,read') or set {RemoteTestOptions.Section}:Auth:AllowAnonymous=true");
        }

        // Loopback targets are the out-of-the-box convenience of one process reachable only from this machine.
        // A worker of a shared backend takes tasks from APIs elsewhere, so it never gets it.
        var loopbackTargets = loopbackOnly && roles.Api && roles.Worker && options.Storage.Kind != StorageKind.Postgres;
        var services = builder.Services;
        services.AddSingleton(new SecurityPosture(urls, loopbackOnly, loopbackTargets));
        services.AddSingleton(new TargetPolicy(options.Targets, loopbackTargets));
        services.AddSingleton<TargetGuard>();
        services.AddSingleton<ApiTokenDirectory>();
        services.AddSingleton(sp => new BrowserRequestGuard(options, sp.GetRequiredService<ApiTokenDirectory>(), sp.GetRequiredService<AuditLog>()));
        services.AddSingleton<AuditLog>();
        services.AddSingleton<RequestRateLimits>();
        services.AddSingleton<QueueLengths>();
        services.AddScoped<SubmissionGate>();
        services.AddSingleton<ScheduleFireGate>();
        // Managed tokens live in the task store's own table; a store without one keeps them for the process's life.
        services.AddSingleton<IApiTokenStore>(sp => sp.GetRequiredService<Store.ITaskStore>() as IApiTokenStore ?? new ProcessApiTokenStore());

        services.AddAuthentication(BearerTokenHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, _ => { });
        services.AddAuthorization(o =>
        {
            // Every endpoint needs a caller with the scope its method implies, unless it says otherwise:
            // a route added later is protected without anyone remembering to protect it.
            o.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser()
                .AddRequirements(new MethodScopeRequirement()).Build();
            o.AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(ApiScopes.Admin)));
            var singleTenant = options.Auth.Tokens.Length == 0;
            o.AddPolicy(MetricsPolicy, p => p.RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(singleTenant ? ApiScopes.Read : ApiScopes.Admin)));
            o.AddPolicy(ApiScopes.Read, p => p.RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(ApiScopes.Read)));
            o.AddPolicy(ApiScopes.Submit, p => p.RequireAuthenticatedUser()
                .AddRequirements(new ScopeRequirement(ApiScopes.Submit)));
        });
        services.AddSingleton<IAuthorizationHandler, MethodScopeHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, ScopeForbiddenHandler>();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<RequestRateLimits>((o, limits) => limits.Configure(o));

        if (options.Cors.AllowedOrigins.Length > 0)
        {
            services.AddCors(o => o.AddDefaultPolicy(p => p.WithOrigins(options.Cors.AllowedOrigins)
                .WithMethods("GET", "POST", "DELETE").WithHeaders("Authorization", "Content-Type")
                .WithExposedHeaders("Location", "Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")));
        }
        // One body limit for every route, not only POST /task (Kestrel's default is 30 MB).
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.Limits.MaxRequestBytes);
        return LoadKeyRingCertificate(options.KeyRing);
    }

    /// <summary>The security middleware, in order: headers, CORS, authentication, rate limits, authorization.</summary>
    public static void UseSecurity(this WebApplication app, RemoteTestOptions options)
    {
        var posture = app.Services.GetRequiredService<SecurityPosture>();
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("RemoteTest.Security");
        if (options.Auth.Tokens.Length == 0)
        {
            log.LogWarning(posture.LoopbackOnly
                ? "No API tokens configured: anyone on this machine may use the API (it listens on loopback only). Create tokens with 'token new' before exposing it."
                : "No API tokens configured and anonymous access is on: anyone who reaches {Urls} may use the API",
                string.Join(", ", posture.Urls));
        }
        if (posture.LoopbackTargetsAllowed)
        {
            log.LogInformation("Loopback targets are allowed because the service listens on loopback only");
        }
        if (options.Storage.Kind != StorageKind.Memory && string.IsNullOrEmpty(options.KeyRing.CertificatePath))
        {
            log.LogWarning("The Data Protection keys that encrypt task secrets are stored unencrypted (file mode 0700 where possible); set {Setting} to encrypt them at rest",
                $"{RemoteTestOptions.Section}:KeyRing:CertificatePath");
        }

        app.Use(SecurityHeaders.Add);
        app.Use(app.Services.GetRequiredService<BrowserRequestGuard>().InvokeAsync);
        // An answer with an error status and no body (no route, wrong method) still says what went wrong, as JSON.
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            if (response.StatusCode >= 400)
            {
                await response.WriteAsJsonAsync(new
                {
                    error = ReasonPhrases.GetReasonPhrase(response.StatusCode) is { Length: > 0 } reason ? reason.ToLowerInvariant() : $"status {response.StatusCode}",
                    field = "path",
                });
            }
        });
        if (options.Cors.AllowedOrigins.Length > 0)
        {
            app.UseCors();
        }
        app.UseAuthentication();
        app.Use(app.Services.GetRequiredService<RequestRateLimits>().Headers);
        // Not app.UseRateLimiter(): its middleware keeps a partitioned limiter for endpoint policies (none here) whose
        // 100 ms timer woke every node while idle; RequestRateLimits.Enforce applies the same options (bench/README.md).
        app.Use(RequestRateLimits.Enforce(app.Services.GetRequiredService<IOptions<RateLimiterOptions>>().Value));
        app.UseAuthorization();
    }

    private static IEnumerable<string> Validate(RemoteTestOptions o)
    {
        const string S = RemoteTestOptions.Section;
        foreach (var p in ApiTokens.Validate(o.Auth))
        {
            yield return p;
        }
        foreach (var (list, name) in new[] { (o.Targets.Allow, "Allow"), (o.Targets.Deny, "Deny") })
        {
            foreach (var cidr in list.Where(c => TargetPolicy.ParseCidr(c) is null))
            {
                yield return $"{S}:Targets:{name}: '{cidr}' is not a CIDR block (e.g. 10.0.0.0/8) or an IP address";
            }
        }
        if (o.Targets.MaxConnectionsPerAddress < 1)
        {
            yield return $"{S}:Targets:MaxConnectionsPerAddress: must be at least 1";
        }
        var l = o.Limits;
        foreach (var (value, name) in new[] { (l.MaxHostsPerTask, "MaxHostsPerTask"), (l.MaxPortsPerHost, "MaxPortsPerHost"), (l.MaxDomainsPerTask, "MaxDomainsPerTask"),
                     (l.MaxApplicationsPerHost, "MaxApplicationsPerHost"), (l.MaxQueuedTasksPerToken, "MaxQueuedTasksPerToken"), (l.MaxQueueLength, "MaxQueueLength") })
        {
            if (value < 1)
            {
                yield return $"{S}:Limits:{name}: must be at least 1";
            }
        }
        if (l.RateLimit.PermitLimit < 0)
        {
            yield return $"{S}:Limits:RateLimit:PermitLimit: must not be negative (0 turns rate limiting off)";
        }
        if (l.RateLimit.Window < TimeSpan.FromSeconds(1))
        {
            yield return $"{S}:Limits:RateLimit:Window: must be at least one second";
        }
        if (l.QueueRetryAfter < TimeSpan.FromSeconds(1))
        {
            yield return $"{S}:Limits:QueueRetryAfter: must be at least one second";
        }
        foreach (var origin in o.Cors.AllowedOrigins.Where(x => !Uri.TryCreate(x, UriKind.Absolute, out var u) || u.AbsolutePath != "/" || (u.Scheme != "http" && u.Scheme != "https")))
        {
            yield return $"{S}:Cors:AllowedOrigins: '{origin}' is not an origin like https://example.com";
        }
    }

    /// <summary>
    /// Where the key ring lives and how it is protected; call after the storage has chosen its default place,
    /// so that <c>KeyRing:Directory</c> wins over it.
    /// </summary>
    public static void AddKeyRing(IServiceCollection services, RemoteTestOptions options, X509Certificate2? certificate)
    {
        var dataProtection = services.AddDataProtection();
        // Data Protection reads the key ring at start only to warm it up (a failure is merely logged): reading it at
        // the first secret instead keeps its XML stack (about 3 MB resident) out of a process that never sees one.
        foreach (var warmUp in services.Where(d => d.ServiceType == typeof(IHostedService)
                     && d.ImplementationType?.FullName == "Microsoft.AspNetCore.DataProtection.Internal.DataProtectionHostedService").ToList())
        {
            services.Remove(warmUp);
        }
        if (options.Storage.Kind == StorageKind.Memory)
        {
            return;
        }
        if (!string.IsNullOrWhiteSpace(options.KeyRing.Directory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(RestrictedDirectory(options.KeyRing.Directory, "KeyRing:Directory")));
        }
        else if (options.Storage.Kind == StorageKind.Embedded)
        {
            RestrictedDirectory(Path.Combine(Path.GetFullPath(options.DataDirectory), "keys"), "DataDirectory");
        }
        if (certificate is not null)
        {
            // Unprotect needs the certificate too: on Linux there is no machine store to find it in by thumbprint.
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }
    }

    private static X509Certificate2? LoadKeyRingCertificate(KeyRingOptions keyRing)
    {
        if (string.IsNullOrWhiteSpace(keyRing.CertificatePath))
        {
            return null;
        }
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(keyRing.CertificatePath, keyRing.CertificatePassword);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{RemoteTestOptions.Section}:KeyRing:CertificatePath: cannot load '{keyRing.CertificatePath}': {ex.Message}");
        }
        if (!certificate.HasPrivateKey)
        {
            throw new StartupException($"{RemoteTestOptions.Section}:KeyRing:CertificatePath: '{keyRing.CertificatePath}' has no private key");
        }
        return certificate;
    }

    /// <summary>Creates <paramref name="path"/> readable by this user only (keys are secrets even when encrypted).</summary>
    private static string RestrictedDirectory(string path, string setting)
    {
        var full = Path.GetFullPath(path);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{RemoteTestOptions.Section}:{setting}: cannot create '{full}': {ex.Message}");
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return full;
    }
}

/// <summary>How the service is exposed, as decided at start.</summary>
public sealed record SecurityPosture(IReadOnlyList<string> Urls, bool LoopbackOnly, bool LoopbackTargetsAllowed);

/// <summary>The scope a route needs by its method when it names none: reading needs <c>read</c>, anything else <c>submit</c>.</summary>
public sealed class MethodScopeRequirement : IAuthorizationRequirement
{
    public static string ScopeFor(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) ? ApiScopes.Read : ApiScopes.Submit;
}

public sealed class MethodScopeHandler : AuthorizationHandler<MethodScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, MethodScopeRequirement requirement)
    {
        var method = context.Resource switch
        {
            HttpContext http => http.Request.Method,
            _ => HttpMethods.Get,
        };
        // Not succeeding (rather than failing) leaves the requirement among the failed ones, so the 403 can name the scope.
        if (Caller.From(context.User).Has(MethodScopeRequirement.ScopeFor(method)))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

/// <summary>Security headers on HTML answers (the UI, the dashboard), and nosniff on every answer.</summary>
public static class SecurityHeaders
{
    public static Task Add(HttpContext http, Func<Task> next)
    {
        http.Response.OnStarting(() =>
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (http.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
            {
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
                if (!headers.ContainsKey("Content-Security-Policy"))
                {
                    // The dashboard and the UI load scripts and styles from this origin only.
                    headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
                }
            }
            return Task.CompletedTask;
        });
        return next();
    }
}
