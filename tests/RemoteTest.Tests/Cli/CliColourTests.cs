using System.Text.Json.Nodes;
using RemoteTest.Cli;
using Spectre.Console;
using Spectre.Console.Rendering;
using Spectre.Console.Testing;

namespace RemoteTest.Tests.Cli;

/// <summary>
/// Colours mean one thing each, with colour on: a refused certificate is red "fail", amber "warn" only for an
/// accepted certificate that expires soon. (A stored result as the service writes it; rendering only.)
/// </summary>
public sealed class CliColourTests
{
    private static string Draw(IRenderable renderable)
    {
        var console = new TestConsole().Colors(ColorSystem.TrueColor).EmitAnsiSequences().Width(200);
        console.Write(renderable);
        return console.Output;
    }

    private static readonly JsonNode Result = JsonNode.Parse("""
        {
          "summary": {"ok": false},
          "results": {
            "127.0.0.1": {
              "ports": {
                "5061": {"open": true, "error": null, "expected": "open", "ok": false,
                         "tls": {"loaded": false, "cn": "sbc.lab.test", "days_left": 80, "name_match": false,
                                 "error": "name mismatch: certificate is for sbc.lab.test, not 127.0.0.1", "error_kind": "tls_verify"}},
                "443":  {"open": true, "error": null, "expected": "open", "ok": true,
                         "tls": {"loaded": true, "cn": "127.0.0.1", "days_left": 9, "name_match": true, "error": null}},
                "5060": {"open": false, "error": "connection refused", "error_kind": "refused", "expected": "open", "ok": false}
              },
              "failed_ports": [5061, 5060], "error": null
            }
          }
        }
        """)!;

    [Theory]
    [InlineData(ResultLayout.List)]
    [InlineData(ResultLayout.Table)]
    public void A_refused_certificate_is_red_fail_and_only_an_expiring_one_is_amber_warn(ResultLayout layout)
    {
        var drawn = Draw(ResultView.Render("porttest.run", Result, layout));
        var redFail = Draw(new Markup("[red]fail[/]")).TrimEnd();
        var amberWarn = Draw(new Markup("[darkorange]warn[/]")).TrimEnd();
        var amberFail = Draw(new Markup("[darkorange]fail[/]")).TrimEnd();
        Assert.NotEqual("fail", redFail); // colour is on
        Assert.Equal(2, drawn.Split(redFail).Length - 1);   // 5061 (certificate) and 5060 (refused)
        Assert.Equal(1, drawn.Split(amberWarn).Length - 1); // 443 (9 days left)
        Assert.DoesNotContain(amberFail, drawn);
        Assert.Contains("name mismatch: certificate is for sbc.lab.test, not 127.0.0.1", drawn);
        Assert.Contains("certificate expires in 9 days", drawn);
        Assert.False(ResultView.Passed("porttest.run", Result));
    }

    [Fact]
    public void With_all_addresses_a_failed_port_names_the_address_that_failed()
    {
        var result = JsonNode.Parse("""
            {"summary": {"ok": false, "all_addresses": true}, "results": {"sbc.lab.test": {
              "ports": {"5060": {"open": false, "error": "connection refused", "address": "192.0.2.11", "expected": "open", "ok": false}},
              "by_address": {"192.0.2.10": {"ports": {}, "failed_ports": []}, "192.0.2.11": {"ports": {}, "failed_ports": [5060]}},
              "failed_ports": [5060], "addresses": ["192.0.2.10", "192.0.2.11"], "error": null}}}
            """);
        var drawn = Draw(ResultView.Render("porttest.run", result, ResultLayout.List));
        Assert.Matches(@"sbc\.lab\.test\s+5060\s+\S*fail\S*\s+connection refused \(at 192\.0\.2\.11\)", drawn);
    }
}
