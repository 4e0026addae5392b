using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace RemoteTest.Store;

/// <summary>
/// The Data Protection key ring in PostgreSQL (table <c>remotetest.data_protection_keys</c>): an API node
/// encrypts a task's secrets and any worker must decrypt them, so every node shares one key ring. Whoever
/// can read this table can decrypt pending tasks' secrets: give the database the care you give the keys.
/// </summary>
public sealed class PostgresKeyRepository(NpgsqlDataSource dataSource) : IXmlRepository
{
    private const string K = $"{PostgresSchema.Name}.data_protection_keys";

    // IXmlRepository is synchronous; it is called rarely (key ring refresh, about once a day, and key creation).
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        using var cmd = dataSource.CreateCommand($"SELECT xml FROM {K} ORDER BY date_created, id");
        using var reader = cmd.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var cmd = dataSource.CreateCommand($"INSERT INTO {K} (id, xml, date_created) VALUES (@id, @xml, @now) ON CONFLICT (id) DO NOTHING");
        PostgresCommands.Add(cmd, ("id", friendlyName), ("xml", element.ToString(SaveOptions.DisableFormatting)),
            ("now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        cmd.ExecuteNonQuery();
    }
}
