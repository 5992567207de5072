using System;
using System.IO;

namespace Segmind.Client.IO
{
    /// <summary>
    /// A file written beside its destination under a random name and renamed into place only when complete, so
    /// the destination never holds half a video. Disposing without <see cref="Commit"/> deletes it.
    /// </summary>
    internal sealed class PartialFile : IDisposable
    {
        private readonly string _destination;
        private bool _committed;

        public PartialFile(string destination, int bufferSize)
        {
            _destination = destination;
            var directory = Path.GetDirectoryName(destination);
            if (!string.IsNullOrEmpty(directory))
            {
                Directory.CreateDirectory(directory);
            }

            TempPath = destination + "." + Path.GetFileNameWithoutExtension(Path.GetRandomFileName()) + ".partial";
            Stream = new FileStream(TempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize, FileOptions.Asynchronous);
        }

        public string TempPath { get; }

        public FileStream Stream { get; }

        /// <summary>
        /// Flushes, closes and moves the file onto the destination, replacing it only when <paramref name="overwrite"/>.
        /// False when a file appeared there meanwhile and was kept (the new copy is then deleted).
        /// </summary>
        public bool Commit(bool overwrite)
        {
            Stream.Flush(flushToDisk: true);
            Stream.Dispose();
            if (File.Exists(_destination))
            {
                if (!overwrite)
                {
                    return false;
                }

                // netstandard2.0 has no File.Move(overwrite); Replace is the atomic swap where it exists.
                File.Replace(TempPath, _destination, destinationBackupFileName: null, ignoreMetadataErrors: true);
            }
            else
            {
                File.Move(TempPath, _destination);
            }

            _committed = true;
            return true;
        }

        /// <summary>
        /// Closes the file, writes the output record of <paramref name="requestId"/> for these bytes (length, SHA-256) beside
        /// the destination, and only then renames the file into place, so the destination never holds this video without
        /// its record. A file found there by then is this job's output saved by another run at the same moment when the
        /// record verifies it: it is kept (<see cref="PlacedOutput.KeptExisting"/>). Otherwise it is replaced when it is a
        /// damaged copy of this job's output or <paramref name="overwrite"/> allows it, and refused when it is unrelated.
        /// </summary>
        public PlacedOutput CommitOutput(string requestId, bool overwrite)
        {
            Stream.Flush(flushToDisk: true);
            Stream.Dispose();
            var length = new FileInfo(TempPath).Length;
            OutputRecord.Write(_destination, requestId, length, OutputRecord.HashOf(TempPath));
            if (!overwrite && File.Exists(_destination))
            {
                switch (OutputRecord.Check(_destination, requestId))
                {
                    case ExistingOutput.Same:
                        return PlacedOutput.KeptExisting;
                    case ExistingOutput.Unrelated:
                        return PlacedOutput.Refused;
                }
            }

            OutputRecord.MoveOver(TempPath, _destination);
            _committed = true;
            return PlacedOutput.Placed;
        }

        public void Dispose()
        {
            if (_committed)
            {
                return;
            }

            try
            {
                Stream.Dispose();
            }
            catch (IOException)
            {
            }

            try
            {
                File.Delete(TempPath);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>What <see cref="PartialFile.CommitOutput"/> did with the destination.</summary>
    internal enum PlacedOutput
    {
        /// <summary>The new file is in place.</summary>
        Placed,

        /// <summary>This job's verified output was already there (saved by another run); the new copy was dropped.</summary>
        KeptExisting,

        /// <summary>An unrelated file appeared there meanwhile and was left as it is; the new copy was dropped.</summary>
        Refused,
    }
}
