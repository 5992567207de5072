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
}
