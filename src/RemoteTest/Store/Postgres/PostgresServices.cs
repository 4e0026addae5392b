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

    /// <summary>A pooled data source; the application name shows RemoteTest's sessions in <c>pg_stat_activity</c>.</summary>
    public static NpgsqlDataSource CreateDataSource(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "RemoteTest";
        }
        return NpgsqlDataSource.Create(builder.ConnectionString);
    }
}
