using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client.Http;
using Segmind.Client.IO;
using Segmind.Client.Json;

namespace Segmind.Client
{
    /// <summary>
    /// Base64 outputs of any size (up to the download cap): a result answer over the JSON size cap is read as a
    /// skeleton without its output, and saving that output fetches the result again and decodes it to disk as it arrives.
    /// </summary>
    public sealed partial class SegmindClient
    {
        /// <summary>Time elapsed since this call, on the client's time provider (download bounds are measured on it).</summary>
        private Func<TimeSpan> ElapsedClock()
        {
            var time = _time;
            var started = time.GetTimestamp();
            return () => time.GetElapsedTime(started);
        }

        /// <summary>Reads a result answer: whole when it fits the JSON cap, else its skeleton with the output held back.</summary>
        private async Task<ApiResponse> ReadResultAsync(HttpResponseMessage response, string requestId, CancellationToken cancellationToken)
        {
            var status = (int)response.StatusCode;
            var content = response.Content;
            if (status < 200 || status > 299 || content is null)
            {
                return await ApiTransport.ReadAsync(response, MaxResponseBytes(), cancellationToken).ConfigureAwait(false);
            }

            var max = MaxResponseBytes();
            var mediaType = content.Headers.ContentType?.MediaType;

            // A declared length no output under the download cap could need is refused before reading.
            var declared = content.Headers.ContentLength;
            var cap = new DownloadBudget(ElapsedClock(), MaxDownloadBytes(), TimeSpan.Zero, TimeSpan.Zero, 0, requestId);
            if (declared.HasValue && declared.Value > max)
            {
                cap.CheckDeclared((declared.Value - max) / 4 * 3);
            }

            using (var stream = await content.ReadAsStreamAsync().ConfigureAwait(false))
            using (var memory = new MemoryStream())
            {
                var buffer = new byte[ApiTransport.BufferSize];
                while (true)
                {
                    var read = await stream.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return new ApiResponse(status, response.ReasonPhrase, response.Headers, mediaType, memory.ToArray());
                    }

                    memory.Write(buffer, 0, read);
                    if (memory.Length > max)
                    {
                        break;
                    }
                }

                // Too large to hold: keep everything but the output, and only count the output against the download cap.
                var scanner = new LargeResultScanner(max) { OnDiverted = chars => cap.CheckDeclared(chars / 4 * 3) };
                await scanner.ScanAsync(memory.GetBuffer(), 0, (int)memory.Length, cancellationToken).ConfigureAwait(false);
                await scanner.ScanAsync(stream, cancellationToken).ConfigureAwait(false);
                return new ApiResponse(status, response.ReasonPhrase, response.Headers, mediaType, scanner.Skeleton)
                {
                    OutputHeldBack = scanner.Diverted > 0,
                };
            }
        }

        /// <summary>Fetches the result again and decodes its base64 output to disk as it arrives, within the download's bounds.</summary>
        private Task<DownloadedOutput> SaveHeldBackOutputAsync(JobResult result, string destination, bool overwrite, CancellationToken cancellationToken)
        {
            var key = RequireKey();
            var gate = Gate(key);
            var id = result.RequestId;
            var call = new ApiCall(HttpMethod.Get, BuiltJobUri(id, string.Empty), RequestKind.Result, $"get the output of job '{id}'")
            {
                RequestId = id,
                Timeout = _options.DownloadTimeout,
            };

            return _retry.RunAsync(
                async (attempt, token) =>
                {
                    try
                    {
                        return await ApiTransport.SendAsync(call, key, gate, (response, t) => DecodeHeldBackAsync(call, response, key, gate, destination, overwrite, t), token).ConfigureAwait(false);
                    }
                    catch (TransportFailureException failure)
                    {
                        throw TransportError(call, failure, isSubmit: false);
                    }
                },
                IsRetryable,
                cancellationToken);
        }

        private async Task<DownloadedOutput> DecodeHeldBackAsync(ApiCall call, HttpResponseMessage response, ApiKey key, IRequestGate gate, string destination, bool overwrite, CancellationToken cancellationToken)
        {
            var status = (int)response.StatusCode;
            if (status < 200 || status > 299 || response.Content is null)
            {
                var refusal = (await ApiTransport.ReadAsync(response, MaxResponseBytes(), cancellationToken).ConfigureAwait(false)).Redacted(KeyRedactor.For(key));
                throw ResponseError(call, refusal, key, gate, isSubmit: false);
            }

            var id = call.RequestId!;
            using (var partial = new PartialFile(destination, 4096))
            {
                var pace = DownloadBudgetFor(id, _options.RequestTimeout);
                var cap = new DownloadBudget(ElapsedClock(), MaxDownloadBytes(), TimeSpan.Zero, TimeSpan.Zero, 0, id);
                var sink = new Base64Sink(partial.Stream, cap);
                var scanner = new LargeResultScanner(MaxResponseBytes())
                {
                    Divert = sink.WriteAsync,
                    OnRead = received => pace.Check(received),
                    OnDiverted = chars => cap.CheckDeclared(chars / 4 * 3),
                };

                try
                {
                    using (var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false))
                    {
                        await scanner.ScanAsync(stream, cancellationToken).ConfigureAwait(false);
                    }

                    await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (FormatException bad)
                {
                    throw new SegmindProtocolException($"The base64 output of job '{id}' does not decode.", requestId: id, inner: bad);
                }

                if (scanner.Diverted == 0)
                {
                    throw new SegmindProtocolException($"The result of job '{id}' no longer carries its output.", status, id);
                }

                return PlaceOutput(partial, id, destination, sink.Written, overwrite);
            }
        }
    }
}
