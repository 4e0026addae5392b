using Microsoft.AspNetCore.DataProtection;
using RemoteTest.Engine;

namespace RemoteTest.Store;

/// <summary>Registers the task store of the configured kind (embedded SQLite, in-memory, PostgreSQL), its Data Protection keys and the intake.</summary>
public static class StoreServices
{
    public static void AddTaskStore(this IServiceCollection services, RemoteTestOptions options)
    {
        var dataProtection = services.AddDataProtection().SetApplicationName("RemoteTest");
        switch (options.Storage.Kind)
        {
            case StorageKind.Memory:
                dataProtection.UseEphemeralDataProtectionProvider();
                services.AddSingleton<ITaskStore>(_ => SqliteTaskStore.OpenInMemory());
                services.AddSingleton<IWorkerRegistry, LocalWorkerRegistry>();
                break;
            case StorageKind.Embedded:
                var directory = Path.GetFullPath(options.DataDirectory);
                var dataLock = DataDirectoryLock.Acquire(directory);
                // A factory registration, so the container disposes (releases) the lock when the host stops.
                services.AddSingleton(_ => dataLock);
                dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(directory, "keys")));
                services.AddSingleton<ITaskStore>(_ => SqliteTaskStore.OpenFile(Path.Combine(directory, "tasks.db")));
                services.AddSingleton<IWorkerRegistry, LocalWorkerRegistry>();
                break;
            case StorageKind.Postgres:
                PostgresServices.Add(services, options, dataProtection);
                break;
            default:
                throw new StartupException($"{RemoteTestOptions.Section}:Storage:Kind: '{options.Storage.Kind}' is not available in this build");
        }
        services.AddSingleton<ArgumentSecrets>();
        services.AddSingleton<TaskIntake>();
    }
}
