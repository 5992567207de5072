using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Segmind.Client.IO;

namespace Segmind.Client.Gallery
{
    /// <summary>Writes a gallery page: rendered whole, then swapped into place, so a reader never sees half a page.</summary>
    public static class GalleryPage
    {
        /// <summary>
        /// Renders <paramref name="records"/> (several records of one row are merged) to <paramref name="path"/>,
        /// replacing an existing page atomically. Local files are linked relative to the page's folder.
        /// </summary>
        /// <returns>The rows as written, in page order.</returns>
        public static IReadOnlyList<GalleryItem> Write(string path, IEnumerable<GalleryItem> records, GalleryOptions options)
        {
            if (string.IsNullOrEmpty(path))
            {
                throw new ArgumentException("The page's path is empty.", nameof(path));
            }

            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            var full = Path.GetFullPath(path);
            options.PageDirectory = Path.GetDirectoryName(full) ?? string.Empty;
            var items = GalleryRenderer.Combine(records);
            var bytes = new UTF8Encoding(false).GetBytes(GalleryRenderer.Render(items, options));

            using var partial = new PartialFile(full, 64 * 1024);
            partial.Stream.Write(bytes, 0, bytes.Length);
            partial.Commit(overwrite: true);
            return items;
        }
    }
}
