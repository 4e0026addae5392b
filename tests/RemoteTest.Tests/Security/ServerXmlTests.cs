using System.Diagnostics;
using System.Xml;
using RemoteTest.Probes;

namespace RemoteTest.Tests.Security;

/// <summary>XML from probed servers (OCI-P, SOAP, Xsi bodies) is parsed with DTDs prohibited and a size cap.</summary>
public sealed class ServerXmlTests
{
    private const string Oci = """<BroadsoftDocument protocol="OCI" xmlns="C" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sessionId xmlns="">s</sessionId><command xsi:type="AuthenticationResponse" xmlns=""><userId>&e;</userId><nonce>1</nonce></command></BroadsoftDocument>""";

    [Fact]
    public void An_oci_answer_with_a_dtd_is_refused_not_expanded()
    {
        var answer = "<?xml version=\"1.0\"?><!DOCTYPE BroadsoftDocument [<!ENTITY e \"expanded-by-the-dtd\">]>" + Oci;
        var ex = Assert.Throws<XmlException>(() => OciDocument.ParseResponse(answer));
        Assert.Contains("DTD", ex.Message);
    }

    [Fact]
    public void A_billion_laughs_answer_fails_fast()
    {
        var laughs = "<!DOCTYPE BroadsoftDocument [<!ENTITY a \"lollollollollollollollollollol\">" +
                     string.Concat(Enumerable.Range(1, 9).Select(i => $"<!ENTITY {(char)('a' + i)} \"{string.Concat(Enumerable.Repeat($"&{(char)('a' + i - 1)};", 10))}\">")) +
                     "<!ENTITY e \"&j;\">]>" + Oci;
        var clock = Stopwatch.StartNew();
        Assert.Throws<XmlException>(() => OciDocument.ParseResponse(laughs));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
    }

    [Fact]
    public void Documents_above_the_size_cap_are_refused()
    {
        var huge = "<a>" + new string('x', (int)SafeXml.MaxCharacters) + "</a>";
        Assert.Throws<XmlException>(() => SafeXml.Parse(huge));
        Assert.Equal("x", SafeXml.Parse("<a> <b>x</b> </a>").Root!.Value);
    }
}
