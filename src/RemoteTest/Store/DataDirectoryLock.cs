namespace RemoteTest.Store;

/// <summary>
/// An exclusive lock on the data directory, held for the life of the process: two processes on one
/// embedded store would each run the other's tasks from their in-memory queues.
/// </summary>
public sealed class DataDirectoryLock : IDisposable
{
    private readonly FileStream _lock;

    private DataDirectoryLock(FileStream fileLock) => _lock = fileLock;

    public static DataDirectoryLock Acquire(string directory)
    {
        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new StartupException($"{RemoteTestOptions.Section}:DataDirectory: cannot create '{directory}': {ex.Message}");
        }
        var path = Path.Combine(directory, "remotetest.lock");
        try
        {
            // FileShare.None takes an exclusive advisory lock (flock) on Unix; the OS drops it when the process dies.
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            stream.SetLength(0);
            using (var w = new StreamWriter(stream, leaveOpen: true))
            {
                w.Write(Environment.ProcessId);
            }
            stream.Flush();
            return new DataDirectoryLock(stream);
        }
        catch (IOException)
        {
            throw new StartupException($"{RemoteTestOptions.Section}:DataDirectory: '{directory}' is in use by another RemoteTest process (lock file {path})");
        }
    }

    public void Dispose() => _lock.Dispose();
}
