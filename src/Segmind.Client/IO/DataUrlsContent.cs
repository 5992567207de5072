using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Tasks;

namespace Segmind.Client.IO
{
    /// <summary>
    /// The upload-asset body <c>{"data_urls":["data:&lt;mime&gt;;base64,..."]}</c>, written straight from the files
    /// in base64 slices: a 100 MB video never becomes a 133 MB string in memory.
    /// </summary>
    internal sealed class DataUrlsContent : HttpContent
    {
        // A multiple of 3, so each slice encodes without padding except the last.
        private const int SliceBytes = 3 * 16 * 1024;

        private static readonly byte[] Opening = Encoding.ASCII.GetBytes("{\"data_urls\":[");
        private static readonly byte[] Closing = Encoding.ASCII.GetBytes("]}");

        private readonly IReadOnlyList<UploadFile> _files;

        public DataUrlsContent(IReadOnlyList<UploadFile> files)
        {
            _files = files;
            Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Opening, 0, Opening.Length).ConfigureAwait(false);
            var input = new byte[SliceBytes];
            var chars = new char[SliceBytes / 3 * 4];
            var output = new byte[chars.Length];
            for (var index = 0; index < _files.Count; index++)
            {
                var file = _files[index];
                var prefix = Encoding.ASCII.GetBytes((index > 0 ? "," : string.Empty) + "\"" + Prefix(file.MimeType));
                await stream.WriteAsync(prefix, 0, prefix.Length).ConfigureAwait(false);

                using (var source = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous | FileOptions.SequentialScan))
                {
                    // Exactly the length announced in Content-Length, even if the file changed since.
                    var remaining = file.Length;
                    while (remaining > 0)
                    {
                        var want = (int)Math.Min(SliceBytes, remaining);
                        var filled = 0;
                        while (filled < want)
                        {
                            var read = await source.ReadAsync(input, filled, want - filled).ConfigureAwait(false);
                            if (read == 0)
                            {
                                throw new IOException($"The file '{file.Path}' became shorter while it was being uploaded.");
                            }

                            filled += read;
                        }

                        var count = Convert.ToBase64CharArray(input, 0, filled, chars, 0);
                        for (var i = 0; i < count; i++)
                        {
                            output[i] = (byte)chars[i];
                        }

                        await stream.WriteAsync(output, 0, count).ConfigureAwait(false);
                        remaining -= filled;
                    }
                }

                await stream.WriteAsync(Quote, 0, 1).ConfigureAwait(false);
            }

            await stream.WriteAsync(Closing, 0, Closing.Length).ConfigureAwait(false);
        }

        private static readonly byte[] Quote = { (byte)'"' };

        protected override bool TryComputeLength(out long length)
        {
            long total = Opening.Length + Closing.Length;
            for (var index = 0; index < _files.Count; index++)
            {
                var file = _files[index];
                total += (index > 0 ? 1 : 0) + 1 + Prefix(file.MimeType).Length + Base64Length(file.Length) + 1;
            }

            length = total;
            return true;
        }

        public static long Base64Length(long bytes) => (bytes + 2) / 3 * 4;

        private static string Prefix(string mimeType) => "data:" + mimeType + ";base64,";
    }

    /// <summary>A local file to upload, measured once so the request length is known up front.</summary>
    internal sealed class UploadFile
    {
        public UploadFile(string path, string field, long length, string mimeType)
        {
            Path = path;
            Field = field;
            Length = length;
            MimeType = mimeType;
        }

        public string Path { get; }
        public string Field { get; }
        public long Length { get; }
        public string MimeType { get; }
    }
}
