using System.Text.Json.Nodes;
using RemoteTest.Tasks;

namespace RemoteTest.Api;

/// <summary>Validation of the <c>webhook</c> member of a task or schedule.</summary>
public static class WebhookUrl
{
    /// <summary>An absolute http(s) URL without credentials; where it may connect is decided at delivery (the target guard).</summary>
    public static string Parse(JsonNode? node, string field, int maxLength)
    {
        var text = ArgumentReader.String(node, field, maxLength);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.Host.Length == 0)
        {
            throw new TaskArgumentException(field, $"'{text}' is not an absolute http or https URL");
        }
        if (uri.UserInfo.Length > 0)
        {
            // Credentials in the URL would be stored and shown with the task; receivers check the signature instead.
            throw new TaskArgumentException(field, "a webhook URL must not carry credentials; verify the X-RemoteTest-Signature header instead");
        }
        return uri.AbsoluteUri;
    }
}
