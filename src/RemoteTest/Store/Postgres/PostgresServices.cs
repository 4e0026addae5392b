using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;
using Npgsql;

namespace RemoteTest.Store;

/// <summary>Wires the PostgreSQL task store, worker registry and shared key ring (<c>Storage:Kind=postgres</c>).</summary>
public static class PostgresServices
{
    public static void Add(IServiceCollection services, RemoteTestOptions options, IDataProtectionBuilder dataProtection)
    {
        var dataSource = CreateDataSource(options.Storage.ConnectionString!);
        services.AddSingleton(dataSource);
        services.AddSingleton<ITaskStore>(sp => new PostgresTaskStore(dataSource, options.Cluster.WorkerTimeout, sp.GetRequiredService<ILogger<PostgresTaskStore>>()));
        services.AddSingleton<IWorkerRegistry>(_ => new PostgresWorkerRegistry(dataSource, options.Cluster.WorkerTimeout));
        // Every node must read what any other node encrypted, so the key ring lives in the shared database.
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(_ =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new PostgresKeyRepository(dataSource)));
        _ = dataProtection;
    }

    /// <summary>
    /// A pooled data source; the application name shows RemoteTest's sessions in <c>pg_stat_activity</c>. Unless the
    /// connection string says otherwise, a connection goes back to the pool as it is and the statements every task
    /// runs stay prepared on it: RemoteTest keeps no session state (no SET, no temporary tables; its one session lock
    /// is released before the connection is returned), and the <c>DISCARD ALL</c> sent with every borrowed connection
    /// made the server drop its plans and parse and plan each statement again — most of PostgreSQL's CPU per task
    /// (bench/README.md).
    /// </summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = ConnectionSettings(connectionString);
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }

    /// <summary>The connection string with RemoteTest's defaults for what it leaves unsaid (see <see cref="CreateDataSource"/>).</summary>
    internal static NpgsqlConnectionStringBuilder ConnectionSettings(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "RemoteTest";
        }
        // Keys lists what the string set (under the canonical names); ContainsKey answers true for every keyword Npgsql knows.
        bool Given(string keyword) => builder.Keys.Cast<string>().Contains(keyword, StringComparer.OrdinalIgnoreCase);
        if (!Given("No Reset On Close"))
        {
            builder.NoResetOnClose = true;
        }
        if (!Given("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = 32;
        }
        return builder;
    }
}
