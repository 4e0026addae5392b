using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Api;

/// <summary>Reads a request body as JSON strictly: valid UTF-8, at most 64 levels deep, no member named twice.</summary>
public static class RequestJson
{
    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>
    /// Parses the body (at most <paramref name="maxBytes"/>). Every defect is a <see cref="JsonException"/>: the
    /// parser checks UTF-8 only where it decodes, and an undecoded bad byte would surface later as a 500.
    /// </summary>
    public static async Task<JsonNode?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(Math.Clamp((int)(request.ContentLength ?? 4096), 1, maxBytes));
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                throw new BadHttpRequestException($"request body is larger than {maxBytes} bytes", StatusCodes.Status413PayloadTooLarge);
            }
        }
        var bytes = buffer.WrittenSpan;
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new JsonException("the body is not valid UTF-8");
        }
        return JsonNode.Parse(bytes, documentOptions: Strict);
    }
}
