using System;
using System.IO;
using System.Threading;

namespace Segmind.Client
{
    /// <summary>
    /// A lock shared by every process (and every journal object) appending to one journal: <c>&lt;journal&gt;.lock</c>
    /// opened without sharing. The file is left in place afterwards: deleting it on release would let two processes
    /// lock two different files of the same name.
    /// </summary>
    internal sealed class JournalFileLock : IDisposable
    {
        private readonly FileStream _stream;

        private JournalFileLock(FileStream stream)
        {
            _stream = stream;
        }

        public static JournalFileLock Acquire(string lockPath, TimeSpan timeout)
        {
            var random = new Random(Environment.TickCount ^ Thread.CurrentThread.ManagedThreadId);
            var started = DateTime.UtcNow;
            while (true)
            {
                try
                {
                    var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                    return new JournalFileLock(stream);
                }
                catch (IOException) when (File.Exists(lockPath) || Directory.Exists(Path.GetDirectoryName(lockPath)))
                {
                    // Held by another writer: an append takes a millisecond or two, so a short randomized sleep is enough.
                    if (DateTime.UtcNow - started > timeout)
                    {
                        throw new IOException("The journal lock '" + lockPath + "' has been held by another writer for more than " + timeout.TotalSeconds + " s. If no other run is using this journal, try again.");
                    }

                    Thread.Sleep(random.Next(3));
                }
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
