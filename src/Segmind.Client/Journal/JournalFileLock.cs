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

        /// <summary>
        /// Takes the lock, retrying while another writer holds it for up to <paramref name="timeout"/>; the pauses and
        /// the bound run on <paramref name="time"/>.
        /// </summary>
        public static JournalFileLock Acquire(string lockPath, TimeSpan timeout, TimeProvider time)
        {
            var random = new Random(Environment.TickCount ^ Thread.CurrentThread.ManagedThreadId);
            var started = time.GetTimestamp();
            while (true)
            {
                try
                {
                    var stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                    return new JournalFileLock(stream);
                }
                catch (IOException) when (File.Exists(lockPath) || Directory.Exists(Path.GetDirectoryName(lockPath)))
                {
                    // Held by another writer: an append takes a millisecond or two, so a short randomized pause is enough.
                    if (time.GetElapsedTime(started) > timeout)
                    {
                        throw new IOException("The journal lock '" + lockPath + "' has been held by another writer for more than " + timeout.TotalSeconds + " s. If no other run is using this journal, try again.");
                    }

                    Pause(time, random.Next(3));
                }
            }
        }

        private static void Pause(TimeProvider time, int milliseconds)
        {
            if (ReferenceEquals(time, TimeProvider.System))
            {
                Thread.Sleep(milliseconds);
                return;
            }

            // Another clock (scaled, or a test's) decides when the pause is over.
            using (var woken = new ManualResetEventSlim(false))
            using (time.CreateTimer(state => ((ManualResetEventSlim)state!).Set(), woken, TimeSpan.FromMilliseconds(Math.Max(1, milliseconds)), Timeout.InfiniteTimeSpan))
            {
                woken.Wait();
            }
        }

        public void Dispose() => _stream.Dispose();
    }
}
