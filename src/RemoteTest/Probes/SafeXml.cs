using System.Xml;
using System.Xml.Linq;

namespace RemoteTest.Probes;

/// <summary>
/// Parses XML that a probed server sent (OCI-P, OCI over SOAP, Xsi error bodies). <see cref="XDocument.Parse(string)"/>
/// processes DTDs (entities expanded up to ten million characters: a "billion laughs" answer costs CPU and memory);
/// here a DOCTYPE is refused outright, nothing is resolved from outside, and the document size is capped.
/// </summary>
public static class SafeXml
{
    /// <summary>
    /// The most characters one document may hold: above every transport cap (OCI-P reads 1 MB, HTTP bodies
    /// <c>AppTest:MaxResponseBytes</c>), so it only matters if one of those grows unchecked.
    /// </summary>
    public const long MaxCharacters = 16L * 1024 * 1024;

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxCharacters,
        MaxCharactersFromEntities = 1024,
        // As XDocument.Parse(string) without LoadOptions: insignificant whitespace is dropped.
        IgnoreWhitespace = true,
    };

    /// <summary>Parses <paramref name="xml"/>; a DOCTYPE, a document too large or malformed XML throws <see cref="XmlException"/>.</summary>
    public static XDocument Parse(string xml)
    {
        using var text = new StringReader(xml);
        using var reader = XmlReader.Create(text, Settings);
        return XDocument.Load(reader);
    }
}
