using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace RemoteTest.Cli.Commands;

public sealed class PortSettings : SubmitSettings
{
    [CommandArgument(0, "<HOST:PORT[,PORT...]>")]
    [Description("Targets, e.g. sbc.example.com:5060,5061 192.0.2.10:443 [[2001:db8::1]]:22 (ranges: 8000-8010).")]
    public string[] Targets { get; set; } = [];

    [CommandOption("--tls-ports <PORTS>")]
    [Description("Ports that also get a TLS handshake and certificate check (server default: 443,2209,8012).")]
    public string? TlsPorts { get; set; }

    [CommandOption("--insecure")]
    [Description("Do not verify certificates (verify_ssl=false); still report them.")]
    public bool Insecure { get; set; }

    [CommandOption("--expect-closed <PORTS>")]
    [Description("Ports that must be closed on every host (a firewall rule): open fails, refused passes (expect_closed). Ranges like 8000-8010.")]
    public string? ExpectClosed { get; set; }

    [CommandOption("--sni <NAME>")]
    [Description("Server name sent to TLS ports and checked against their certificates, instead of the host (sni).")]
    public string? Sni { get; set; }

    [CommandOption("--ca-file <PATH>")]
    [Description("PEM file of CA certificates trusted besides the system's, for a private CA (sent as ca_pem).")]
    public string? CaFile { get; set; }

    [CommandOption("--all-addresses")]
    [Description("Check every A/AAAA address behind a name, not only the first that answers (all_addresses).")]
    public bool AllAddresses { get; set; }

    public override ValidationResult Validate()
    {
        if (Targets.Length == 0)
        {
            return ValidationResult.Error("give at least one HOST:PORT");
        }
        if (Sni is not null && !PortCommand.IsServerName(Sni))
        {
            return ValidationResult.Error($"--sni '{Sni}' is not a DNS name (SNI carries names, not addresses)");
        }
        return base.Validate();
    }
}

/// <summary><c>remotetest port HOST:PORT[,PORT...]...</c>: porttest.run.</summary>
public sealed class PortCommand(CliEnvironment environment) : SubmitCommand<PortSettings>(environment)
{
    /// <summary>More ports than this in one range is almost certainly a typo (1-65535), refused before sending.</summary>
    private const int MaxRange = 1024;

    /// <summary>The service's limit on <c>ca_pem</c>; a bigger file is refused before it is sent.</summary>
    private const int MaxPemBytes = 256 * 1024;

    private const string PemBegin = "-----BEGIN CERTIFICATE-----";

    /// <summary>A DNS name as the service's <c>sni</c> takes it: labels of letters, digits, '-' and '_', not an address.</summary>
    public static bool IsServerName(string name)
    {
        var trimmed = name.TrimEnd('.');
        return trimmed.Length is > 0 and <= 253 && !System.Net.IPAddress.TryParse(trimmed, out _)
            && trimmed.Split('.').All(l => l.Length is > 0 and <= 63 && l[0] != '-' && l[^1] != '-' && l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
    }

    protected override JsonObject BuildPayload(PortSettings settings)
    {
        var data = new JsonObject();
        foreach (var target in settings.Targets)
        {
            var (host, ports) = ParseTarget(target);
            if (data[host] is not JsonObject entry)
            {
                data[host] = entry = new JsonObject { ["ports"] = new JsonArray() };
            }
            foreach (var port in ports)
            {
                entry["ports"]!.AsArray().Add(port);
            }
        }
        var payload = JsonInput.Payload("porttest.run", data);
        var kwargs = JsonInput.Kwargs(payload);
        if (settings.Insecure)
        {
            kwargs["verify_ssl"] = false;
        }
        if (settings.TlsPorts is { } tls)
        {
            kwargs["tls_ports"] = new JsonArray(ParsePorts(tls, "--tls-ports").Select(p => (JsonNode)p).ToArray());
        }
        if (settings.ExpectClosed is { } closed)
        {
            // The API's expect_closed is per host; the option means every host given.
            var ports = ParsePorts(closed, "--expect-closed");
            foreach (var (_, entry) in data)
            {
                entry!["expect_closed"] = new JsonArray(ports.Select(p => (JsonNode)p).ToArray());
            }
        }
        if (settings.Sni is { } sni)
        {
            kwargs["sni"] = sni.Trim();
        }
        if (settings.CaFile is { } caFile)
        {
            kwargs["ca_pem"] = ReadPem(caFile);
        }
        if (settings.AllAddresses)
        {
            kwargs["all_addresses"] = true;
        }
        return payload;
    }

    /// <summary>The --ca-file's text: a readable file holding at least one PEM certificate, within the service's size limit.</summary>
    private static string ReadPem(string path)
    {
        string text;
        try
        {
            if (new FileInfo(path).Length > MaxPemBytes)
            {
                throw new CliException($"--ca-file {path}: larger than {MaxPemBytes / 1024} KiB; give only the CA certificates");
            }
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CliException($"--ca-file {path}: cannot be read ({ex.Message})");
        }
        if (!text.Contains(PemBegin, StringComparison.Ordinal))
        {
            throw new CliException($"--ca-file {path}: no PEM certificate in it (expected a {PemBegin} block)");
        }
        return text;
    }

    /// <summary>"host:80,443", "[2001:db8::1]:443", "192.0.2.1:8000-8002" → host and ports.</summary>
    public static (string Host, List<int> Ports) ParseTarget(string target)
    {
        string host, ports;
        if (target.StartsWith('['))
        {
            var close = target.IndexOf(']');
            if (close < 0 || close + 1 >= target.Length || target[close + 1] != ':')
            {
                throw new CliException($"'{target}': write an IPv6 target as [ADDRESS]:PORT[,PORT...]");
            }
            host = target[1..close];
            ports = target[(close + 2)..];
        }
        else
        {
            var colon = target.LastIndexOf(':');
            if (colon <= 0 || target.IndexOf(':') != colon)
            {
                throw new CliException($"'{target}' is not HOST:PORT[,PORT...] (IPv6: [ADDRESS]:PORT)");
            }
            host = target[..colon];
            ports = target[(colon + 1)..];
        }
        return (host, ParsePorts(ports, target));
    }

    private static List<int> ParsePorts(string text, string what)
    {
        var list = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            if (dash > 0 && Port(part[..dash]) is { } from && Port(part[(dash + 1)..]) is { } to && from <= to && to - from < MaxRange)
            {
                list.AddRange(Enumerable.Range(from, to - from + 1));
            }
            else if (Port(part) is { } port)
            {
                list.Add(port);
            }
            else
            {
                throw new CliException($"{what}: '{part}' is not a port (1-65535) or a range like 8000-8010");
            }
        }
        if (list.Count == 0)
        {
            throw new CliException($"{what}: no ports given");
        }
        return list;
    }

    private static int? Port(string s) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535 ? p : null;
}
