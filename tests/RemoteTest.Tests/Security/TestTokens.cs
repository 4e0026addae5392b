using System.Net.Http.Headers;
using RemoteTest.Security;

namespace RemoteTest.Tests.Security;

/// <summary>Three tokens made the way 'token new' makes them, and the configuration that accepts them.</summary>
public sealed class TestTokens
{
    public string Alice { get; } = ApiTokens.New();     // submit, read
    public string Bob { get; } = ApiTokens.New();       // submit, read
    public string Reader { get; } = ApiTokens.New();    // read
    public string Admin { get; } = ApiTokens.New();     // admin

    /// <summary>Settings for ServiceHost: the four tokens, plus <paramref name="more"/>.</summary>
    public Dictionary<string, string?> Settings(Dictionary<string, string?>? more = null)
    {
        var s = new Dictionary<string, string?>();
        var i = 0;
        foreach (var (name, token, scopes) in new[] { ("alice", Alice, "submit,read"), ("bob", Bob, "submit,read"), ("reader", Reader, "read"), ("root", Admin, "admin") })
        {
            s[$"RemoteTest:Auth:Tokens:{i}:Name"] = name;
            s[$"RemoteTest:Auth:Tokens:{i}:Hash"] = ApiTokens.Hash(token);
            var j = 0;
            foreach (var scope in scopes.Split(','))
            {
                s[$"RemoteTest:Auth:Tokens:{i}:Scopes:{j++}"] = scope;
            }
            i++;
        }
        foreach (var (k, v) in more ?? [])
        {
            s[k] = v;
        }
        return s;
    }

    public static HttpRequestMessage Request(HttpMethod method, string path, string? token, string? json = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        }
        return request;
    }
}
