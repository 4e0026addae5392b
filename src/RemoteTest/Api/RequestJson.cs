using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RemoteTest.Api;

/// <summary>Reads a request body as JSON strictly: valid UTF-8, at most <see cref="MaxDepth"/> levels deep, no member named twice.</summary>
public static class RequestJson
{
    /// <summary>
    /// The deepest request accepted. Storing a task can add levels (the single-argument <c>data</c> form is stored
    /// as <c>{"data": ...}</c>, a protected secret becomes <c>{"$protected": ...}</c>), and every later reader and
    /// writer of the stored JSON (runner, history, revoke, listing) uses System.Text.Json's default limit of 64: half
    /// of it keeps every stored task readable, and no real payload comes near it (the deepest is about 6).
    /// </summary>
    public const int MaxDepth = 32;

    private static readonly JsonDocumentOptions Strict = new() { MaxDepth = MaxDepth, AllowDuplicateProperties = false };

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
