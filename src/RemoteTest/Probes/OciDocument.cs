using System.Security.Cryptography;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace RemoteTest.Probes;

/// <summary>
/// BroadWorks OCI documents: <c>&lt;BroadsoftDocument protocol="OCI" xmlns="C"&gt;</c> with a <c>sessionId</c> and
/// one <c>command</c> whose <c>xsi:type</c> names it. The same documents travel over OCI-P (TCP 2208, TLS 2209)
/// and inside OCI-over-SOAP.
/// </summary>
public static class OciDocument
{
    public const string XsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";

    /// <summary>OCS documents are Latin-1, as the original's client and the OCS's own examples declare.</summary>
    public static readonly Encoding Encoding = Encoding.Latin1;

    /// <summary>A fresh random session id per login, so two logins never share (or guess) one.</summary>
    public static string NewSessionId() => "remotetest-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>One request document; values are escaped by the XML writer, never pasted in.</summary>
    public static string Build(string sessionId, string command, params (string Name, string Value)[] fields)
    {
        XNamespace c = "C";
        XNamespace xsi = XsiNamespace;
        var commandElement = new XElement("command",
            new XAttribute(xsi + "type", command),
            new XAttribute("xmlns", ""),
            fields.Select(f => new XElement(f.Name, f.Value)));
        var document = new XElement(c + "BroadsoftDocument",
            new XAttribute("protocol", "OCI"),
            new XAttribute(XNamespace.Xmlns + "xsi", XsiNamespace),
            new XElement("sessionId", new XAttribute("xmlns", ""), sessionId),
            commandElement);
        var settings = new XmlWriterSettings { Encoding = Encoding, OmitXmlDeclaration = true, Indent = false };
        var text = new StringBuilder("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n");
        using (var writer = XmlWriter.Create(text, settings))
        {
            document.WriteTo(writer);
        }
        return text.ToString();
    }

    /// <summary>Parses a response document into its first command.</summary>
    /// <exception cref="XmlException">Not XML.</exception>
    /// <exception cref="ProtocolViolation">XML, but not an OCI document with a command.</exception>
    public static OciCommand ParseResponse(string xml)
    {
        var root = SafeXml.Parse(xml.TrimStart('\uFEFF', ' ', '\r', '\n', '\t')).Root;
        if (root is null || root.Name.LocalName != "BroadsoftDocument")
        {
            throw new ProtocolViolation($"response is not a BroadsoftDocument (root element '{root?.Name.LocalName}')");
        }
        var command = root.Elements().FirstOrDefault(e => e.Name.LocalName == "command")
            ?? throw new ProtocolViolation("response BroadsoftDocument has no <command>");
        var type = command.Attribute(XName.Get("type", XsiNamespace))?.Value ?? "";
        // "c:ErrorResponse" → "ErrorResponse": the prefix is whatever the server bound the C namespace to.
        var colon = type.IndexOf(':');
        return new OciCommand(colon >= 0 ? type[(colon + 1)..] : type, command);
    }
}

/// <summary>One command of a response: its type and its element.</summary>
public sealed record OciCommand(string Type, XElement Element)
{
    /// <summary>
    /// An error is recognised by the command type ending in <c>ErrorResponse</c>, not by the word "Error" anywhere
    /// in the text (user data such as a name or a department can contain it).
    /// </summary>
    public bool IsError => Type.EndsWith("ErrorResponse", StringComparison.Ordinal);

    /// <summary>The value of a direct child element, or null.</summary>
    public string? Field(string name) => Element.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    /// <summary>An error response in words: its English summary (falling back to the localized one) and code.</summary>
    public string ErrorText()
    {
        var summary = Field("summaryEnglish") ?? Field("summary") ?? Type;
        var code = Field("errorCode");
        return code is null ? summary : $"{summary} (errorCode {code})";
    }
}

/// <summary>The signed password of the OCI-P two-step login.</summary>
public static class OciPassword
{
    /// <summary>
    /// md5(nonce + ":" + sha1hex(password)) when the server asks for MD5, else sha1 of the same text, as the
    /// original computed it; the password itself never goes on the wire.
    /// </summary>
    public static string Sign(string nonce, string password, string? algorithm)
    {
        var passwordSha = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
        var text = Encoding.UTF8.GetBytes($"{nonce}:{passwordSha}");
        return string.Equals(algorithm, "MD5", StringComparison.OrdinalIgnoreCase)
            ? Convert.ToHexStringLower(MD5.HashData(text))
            : Convert.ToHexStringLower(SHA1.HashData(text));
    }
}
