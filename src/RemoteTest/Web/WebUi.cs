using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace RemoteTest.Web;

/// <summary>
/// The browser UI under <c>/ui</c>: a few static files embedded in this assembly, so the UI works offline and
/// wherever the binary runs (no web root to deploy, no CDN). Every path that is not a file answers the page
/// itself, so a task's URL (<c>/ui/task/{id}</c>) can be shared and reloaded.
/// </summary>
public static class WebUi
{
    /// <summary>Where the UI lives.</summary>
    public const string BasePath = "/ui";

    private const string ResourcePrefix = "ui/";
    private const string IndexFile = "index.html";

    private static readonly Lazy<FrozenDictionary<string, UiFile>> Files = new(LoadFiles);

    public static IEndpointRouteBuilder MapWebUi(this IEndpointRouteBuilder app)
    {
        // One route: "/ui" and "/ui/" both match it (routing ignores a trailing slash), so the redirect to
        // "/ui/" (which relative links need) is decided from the raw path, not by a second route.
        app.MapGet(BasePath + "/{**path}", (string? path, HttpContext http) =>
                http.Request.Path.Value == BasePath ? Results.Redirect(BasePath + "/") : Serve(path, http))
            .ExcludeFromDescription()
            // The page and its scripts hold no data; a browser cannot send a token when it navigates, and the
            // page's own API calls carry the token the user gave it.
            .AllowAnonymous();
        return app;
    }

    /// <summary>
    /// True when the client is a browser asking for a page (its Accept ranks text/html above JSON). API clients
    /// (curl, requests, HttpClient) send <c>*/*</c>, <c>application/json</c> or nothing, and keep getting JSON.
    /// </summary>
    public static bool PrefersHtml(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParseList(request.Headers.Accept, out var accepted))
        {
            return false;
        }
        double Quality(string type) => accepted.Where(a => a.MediaType.Equals(type, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1.0).DefaultIfEmpty(0).Max();
        var html = Quality("text/html");
        return html > 0 && html > Quality("application/json");
    }

    private static IResult Serve(string? path, HttpContext http)
    {
        var files = Files.Value;
        // A file name is served as is; anything else (a client-side route like task/{id}) gets the page.
        if (string.IsNullOrEmpty(path) || !files.TryGetValue(path, out var file))
        {
            if (path is not null && Path.HasExtension(path) && !path.EndsWith(".html", StringComparison.Ordinal))
            {
                return Results.NotFound();
            }
            file = files[IndexFile];
        }
        // Revalidated on every load (cheap: 304 by ETag) so a new build's UI is never mixed with a cached old one.
        http.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(file.Content, file.ContentType, entityTag: file.ETag);
    }

    private static FrozenDictionary<string, UiFile> LoadFiles()
    {
        var assembly = typeof(WebUi).Assembly;
        var types = new FileExtensionContentTypeProvider();
        var files = new Dictionary<string, UiFile>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var path = name[ResourcePrefix.Length..];
            var type = types.TryGetContentType(path, out var t) ? t : "application/octet-stream";
            if (type.StartsWith("text/", StringComparison.Ordinal) || type.EndsWith("javascript", StringComparison.Ordinal))
            {
                type += "; charset=utf-8";
            }
            var etag = new EntityTagHeaderValue($"\"{Convert.ToHexString(SHA256.HashData(content), 0, 8)}\"");
            files[path] = new UiFile(content, type, etag);
        }
        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private sealed record UiFile(byte[] Content, string ContentType, EntityTagHeaderValue ETag);
}
