using System.Globalization;

namespace RemoteTest.Security;

/// <summary>
/// Values that travel inside a protocol message (OCI-P and SOAP XML, SIP and HTTP header lines, URL paths): no
/// control characters. CR and LF end a line in SIP and HTTP, NUL ends a string in many servers, and XML 1.0 cannot
/// carry most C0 characters at all; a value holding one is refused at submit (400 naming the field) rather than
/// escaped into something the server reads differently. Each protocol still escapes what it can carry (the XML
/// writer, URL escaping, Base64 for Basic credentials).
/// </summary>
public static class ProtocolText
{
    /// <summary>Why <paramref name="value"/> cannot go into a protocol message, or null when it can.</summary>
    public static string? Refusal(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            var category = char.GetUnicodeCategory(c);
            if (category is UnicodeCategory.Control or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                return $"contains a control character (U+{(int)c:X4}) at position {i}; CR, LF, NUL and other control characters are not allowed";
            }
        }
        return null;
    }
}
