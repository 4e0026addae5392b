using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>Server-side OCI documents for the fakes: parsing requests and writing responses as an OCS does.</summary>
public static class OciXml
{
    public const string Xsi = "http://www.w3.org/2001/XMLSchema-instance";

    /// <summary>A request's session id, command type and fields.</summary>
    public sealed record Request(string SessionId, string Command, IReadOnlyDictionary<string, string> Fields);

    public static Request Parse(string xml)
    {
        var root = XDocument.Parse(xml).Root!;
        var command = root.Elements().First(e => e.Name.LocalName == "command");
        var type = command.Attribute(XName.Get("type", Xsi))!.Value;
        var fields = command.Elements().GroupBy(e => e.Name.LocalName).ToDictionary(g => g.Key, g => g.First().Value);
        return new Request(root.Elements().First(e => e.Name.LocalName == "sessionId").Value, type, fields);
    }

    /// <summary>A response document; <paramref name="type"/> like "AuthenticationResponse" or "c:ErrorResponse".</summary>
    public static string Response(string sessionId, string type, params (string Name, string Value)[] fields)
    {
        var body = string.Concat(fields.Select(f => $"<{f.Name}>{System.Security.SecurityElement.Escape(f.Value)}</{f.Name}>"));
        return "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n" +
               $"<BroadsoftDocument protocol=\"OCI\" xmlns=\"C\" xmlns:xsi=\"{Xsi}\"><sessionId xmlns=\"\">{System.Security.SecurityElement.Escape(sessionId)}</sessionId>" +
               $"<command echo=\"\" xsi:type=\"{type}\" xmlns:c=\"C\" xmlns=\"\">{body}</command></BroadsoftDocument>";
    }

    public static string Error(string sessionId, string summary) =>
        Response(sessionId, "c:ErrorResponse", ("errorCode", "4962"), ("summary", summary), ("summaryEnglish", summary));

    /// <summary>The signed password an OCS expects: md5 (or sha1) of nonce + ":" + sha1hex(password).</summary>
    public static string Signed(string nonce, string password, string algorithm)
    {
        var sha = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
        var text = Encoding.UTF8.GetBytes($"{nonce}:{sha}");
        return algorithm == "MD5" ? Convert.ToHexStringLower(MD5.HashData(text)) : Convert.ToHexStringLower(SHA1.HashData(text));
    }
}
