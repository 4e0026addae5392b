using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using RemoteTest.Probes;

namespace RemoteTest.Tests.PathTrace;

/// <summary>
/// Creates sockets inside a network namespace: a dedicated thread enters the namespace with setns(2) once and then
/// only creates sockets. A socket stays in the namespace it was created in, so the probes use it from any thread.
/// </summary>
public sealed class NetnsSockets : TraceSockets, IDisposable
{
    private const int CloneNewNet = 0x40000000;
    private readonly BlockingCollection<Action> _requests = new();
    private readonly Thread _thread;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _inside;
    private readonly Microsoft.Win32.SafeHandles.SafeFileHandle _outside;

    public NetnsSockets(string netns)
    {
        _inside = File.OpenHandle($"/run/netns/{netns}");
        _outside = File.OpenHandle("/proc/thread-self/ns/net");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/run/netns/{netns}");
                if (SetNs((int)handle.DangerousGetHandle(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns({netns}) failed: errno {Marshal.GetLastPInvokeError()}");
                }
                entered.SetResult();
            }
            catch (Exception ex)
            {
                entered.SetException(ex);
                return;
            }
            foreach (var request in _requests.GetConsumingEnumerable())
            {
                request();
            }
        }) { IsBackground = true, Name = $"netns {netns}" };
        _thread.Start();
        entered.Task.GetAwaiter().GetResult();
    }

    /// <summary>
    /// Made on the calling thread, which enters the namespace for the moment of the socket(2) call and leaves it again:
    /// no waiting on another thread (a probe creates sockets on thread-pool threads; blocking them starves the pool).
    /// </summary>
    public override Socket Create(AddressFamily family, SocketType type, ProtocolType protocol)
    {
        lock (_inside)
        {
            Enter(_inside);
            try
            {
                return new Socket(family, type, protocol);
            }
            finally
            {
                Enter(_outside);
            }
        }
    }

    private static void Enter(Microsoft.Win32.SafeHandles.SafeFileHandle ns)
    {
        if (SetNs((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
        {
            throw new InvalidOperationException($"setns failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Runs <paramref name="create"/> on the namespace's thread (e.g. a listener's socket).</summary>
    public Socket Run(Func<Socket> create) => Start(() => Task.FromResult(create())).GetAwaiter().GetResult();

    /// <summary>
    /// Starts <paramref name="body"/> on the namespace's thread: what it does before its first real await (code that
    /// creates its sockets up front, like porttest's connects) happens inside the namespace.
    /// </summary>
    public Task<T> Start<T>(Func<Task<T>> body)
    {
        var done = new TaskCompletionSource<Task<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Add(() =>
        {
            try
            {
                done.SetResult(body());
            }
            catch (Exception ex)
            {
                done.SetException(ex);
            }
        });
        return done.Task.Unwrap();
    }

    public void Dispose()
    {
        _requests.CompleteAdding();
        _inside.Dispose();
        _outside.Dispose();
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);
}
