using System.Formats.Asn1;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;

namespace RemoteTest.Probes;

/// <summary>
/// Certificate fields rendered the way the original's Python <c>ssl.getpeercert()</c> (OpenSSL) rendered them,
/// so clients that parsed the original's strings keep working.
/// </summary>
public static class CertificateText
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    // OpenSSL's long names (OBJ_nid2ln), which Python put in getpeercert()'s subject and issuer.
    private static readonly Dictionary<string, string> LongNames = new(StringComparer.Ordinal)
    {
        ["2.5.4.3"] = "commonName",
        ["2.5.4.4"] = "surname",
        ["2.5.4.5"] = "serialNumber",
        ["2.5.4.6"] = "countryName",
        ["2.5.4.7"] = "localityName",
        ["2.5.4.8"] = "stateOrProvinceName",
        ["2.5.4.9"] = "streetAddress",
        ["2.5.4.10"] = "organizationName",
        ["2.5.4.11"] = "organizationalUnitName",
        ["2.5.4.12"] = "title",
        ["2.5.4.13"] = "description",
        ["2.5.4.15"] = "businessCategory",
        ["2.5.4.16"] = "postalAddress",
        ["2.5.4.17"] = "postalCode",
        ["2.5.4.18"] = "postOfficeBox",
        ["2.5.4.20"] = "telephoneNumber",
        ["2.5.4.41"] = "name",
        ["2.5.4.42"] = "givenName",
        ["2.5.4.43"] = "initials",
        ["2.5.4.44"] = "generationQualifier",
        ["2.5.4.45"] = "x500UniqueIdentifier",
        ["2.5.4.46"] = "dnQualifier",
        ["2.5.4.65"] = "pseudonym",
        ["2.5.4.97"] = "organizationIdentifier",
        ["1.2.840.113549.1.9.1"] = "emailAddress",
        ["0.9.2342.19200300.100.1.1"] = "userId",
        ["0.9.2342.19200300.100.1.25"] = "domainComponent",
        ["1.3.6.1.4.1.311.60.2.1.1"] = "jurisdictionLocalityName",
        ["1.3.6.1.4.1.311.60.2.1.2"] = "jurisdictionStateOrProvinceName",
        ["1.3.6.1.4.1.311.60.2.1.3"] = "jurisdictionCountryName",
    };

    /// <summary>A time as OpenSSL's <c>ASN1_TIME_print</c>: <c>Oct 29 04:00:00 2027 GMT</c>, the day space-padded.</summary>
    public static string OpenSslTime(DateTime time)
    {
        var t = time.ToUniversalTime();
        return string.Create(CultureInfo.InvariantCulture, $"{Months[t.Month - 1]} {t.Day,2} {t:HH:mm:ss} {t.Year} GMT");
    }

    /// <summary>A time as Python's <c>datetime.isoformat()</c> of an aware UTC value: <c>2027-10-29T04:00:00+00:00</c>.</summary>
    public static string IsoUtc(DateTime time)
    {
        var t = time.ToUniversalTime();
        var fraction = t.Ticks % TimeSpan.TicksPerSecond == 0 ? "" : t.ToString(".ffffff", CultureInfo.InvariantCulture);
        return t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + fraction + "+00:00";
    }

    /// <summary>A serial number as OpenSSL's <c>i2a_ASN1_INTEGER</c>: upper-case hex of the magnitude, no sign byte.</summary>
    public static string Serial(byte[] bigEndian)
    {
        if (bigEndian.Length == 0)
        {
            return "00";
        }
        var value = new BigInteger(bigEndian, isUnsigned: false, isBigEndian: true);
        var magnitude = BigInteger.Abs(value).ToByteArray(isUnsigned: true, isBigEndian: true);
        var hex = magnitude.Length == 0 ? "00" : Convert.ToHexString(magnitude);
        return value.Sign < 0 ? "-" + hex : hex;
    }

    /// <summary>
    /// A distinguished name as <c>countryName=US, organizationName=Example, commonName=example.com</c>: OpenSSL long
    /// names, attributes in the order the certificate encodes them (unknown types as dotted OIDs).
    /// </summary>
    public static string Name(X500DistinguishedName name) =>
        string.Join(", ", Attributes(name).Select(a => $"{a.Type}={a.Value}"));

    /// <summary>The value of the last attribute of <paramref name="type"/> (a long name), as Python's dict of the name kept it.</summary>
    public static string? Attribute(X500DistinguishedName name, string type) =>
        Attributes(name).LastOrDefault(a => a.Type == type).Value;

    /// <summary>The name's attributes in encoding order, each as (long name or OID, decoded value).</summary>
    public static IReadOnlyList<(string Type, string Value)> Attributes(X500DistinguishedName name)
    {
        var list = new List<(string, string)>();
        try
        {
            var rdns = new AsnReader(name.RawData, AsnEncodingRules.BER).ReadSequence();
            while (rdns.HasData)
            {
                var set = rdns.ReadSetOf(skipSortOrderValidation: true);
                while (set.HasData)
                {
                    var pair = set.ReadSequence();
                    var oid = pair.ReadObjectIdentifier();
                    list.Add((LongNames.GetValueOrDefault(oid, oid), ReadValue(pair)));
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed name still gets shown, in .NET's own rendering, rather than failing the whole check.
            return [("name", name.Name)];
        }
        return list;
    }

    private static string ReadValue(AsnReader pair)
    {
        var tag = pair.PeekTag();
        if (tag.TagClass == TagClass.Universal)
        {
            try
            {
                return pair.ReadCharacterString((UniversalTagNumber)tag.TagValue);
            }
            catch (Exception ex) when (ex is AsnContentException or ArgumentException)
            {
                // Not a character string type .NET decodes (e.g. T61String with odd bytes): fall through to hex.
            }
        }
        return "#" + Convert.ToHexString(pair.ReadEncodedValue().Span);
    }
}
