using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;
using RemoteTest.Probes;

namespace RemoteTest.Tests;

/// <summary>The original's certificate formats, as Python's ssl.getpeercert() (OpenSSL) produced them.</summary>
public sealed class PortTestCertificateTextTests
{
    [Theory]
    [InlineData(2027, 10, 29, 4, 0, 0, "Oct 29 04:00:00 2027 GMT")]
    [InlineData(2026, 1, 5, 23, 59, 7, "Jan  5 23:59:07 2026 GMT")]
    public void Times_are_printed_as_OpenSSL_does_with_the_day_space_padded(int y, int mo, int d, int h, int mi, int s, string expected) =>
        Assert.Equal(expected, CertificateText.OpenSslTime(new DateTime(y, mo, d, h, mi, s, DateTimeKind.Utc)));

    [Fact]
    public void Expiry_is_ISO_8601_with_an_explicit_UTC_offset_as_Python_isoformat() =>
        Assert.Equal("2027-10-29T04:00:00+00:00", CertificateText.IsoUtc(new DateTime(2027, 10, 29, 4, 0, 0, DateTimeKind.Utc)));

    [Theory]
    [InlineData(new byte[] { 0x00, 0xFC, 0x90, 0x7E }, "FC907E")]
    [InlineData(new byte[] { 0x05 }, "05")]
    [InlineData(new byte[] { 0x01, 0x00 }, "0100")]
    [InlineData(new byte[] { 0x00 }, "00")]
    [InlineData(new byte[] { 0xFF }, "-01")]
    public void Serial_numbers_are_upper_case_hex_without_the_sign_byte(byte[] der, string expected) =>
        Assert.Equal(expected, CertificateText.Serial(der));

    [Fact]
    public void Names_use_OpenSSL_long_names_in_certificate_order()
    {
        // The long names are those Python's getpeercert() gave for these attributes (checked with ssl._ssl._test_decode_cert).
        // X500DistinguishedNameBuilder encodes the last attribute added first: added here in reverse.
        var builder = new X500DistinguishedNameBuilder();
        builder.Add("1.2.3.4.5", "custom");
        builder.Add("2.5.4.5", "1234", UniversalTagNumber.PrintableString);
        builder.Add("1.3.6.1.4.1.311.60.2.1.3", "US", UniversalTagNumber.PrintableString);
        builder.Add("2.5.4.15", "Private Organization");
        builder.AddDomainComponent("com");
        builder.AddEmailAddress("admin@example.com");
        builder.AddCommonName("Example CA");
        builder.AddOrganizationalUnitName("Unit A");
        builder.AddOrganizationalUnitName("Unit B");
        builder.AddOrganizationName("Example Org");
        builder.AddLocalityName("Dallas");
        builder.AddStateOrProvinceName("Texas");
        builder.AddCountryOrRegion("US");
        var name = builder.Build();

        Assert.Equal("countryName=US, stateOrProvinceName=Texas, localityName=Dallas, organizationName=Example Org, " +
                     "organizationalUnitName=Unit B, organizationalUnitName=Unit A, commonName=Example CA, emailAddress=admin@example.com, " +
                     "domainComponent=com, businessCategory=Private Organization, jurisdictionCountryName=US, serialNumber=1234, 1.2.3.4.5=custom",
            CertificateText.Name(name));
        Assert.Equal("Example CA", CertificateText.Attribute(name, "commonName"));
        Assert.Null(CertificateText.Attribute(name, "title"));
    }
}
