using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client.Http;
using Segmind.Client.IO;
using Segmind.Client.Json;

namespace Segmind.Client
{
    /// <summary>The parts of the client that move files: the blocking run, uploads and output downloads.</summary>
    public sealed partial class SegmindClient
    {
        /// <summary>The blocking <c>POST /v1/wan-animate</c>; the video (or decoded base64) is streamed to <paramref name="destinationPath"/>.</summary>
        public async Task<SyncRunResult> RunAsync(WanAnimateRequest request, string destinationPath, CancellationToken cancellationToken = default)
        {
            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            ThrowIfDisposed();
            request.Validate();
            var destination = FullPath(destinationPath, "Path");
            var key = RequireKey();
            var ready = await UploadLocalInputsAsync(request, cancellationToken).ConfigureAwait(false);
            var body = JsonSerializer.SerializeToUtf8Bytes(ready.ToParameters());
            var call = new ApiCall(HttpMethod.Post, new Uri(BaseUri(), "v1/" + WanAnimateRequest.Slug), RequestKind.SyncRun, "run the job")
            {
                Content = () => JsonContent(body),
                Timeout = _options.SyncRunTimeout,
                Time = _time,
            };

            var gate = Gate(key);
            return await _retry.RunAsync(
                (attempt, token) => RunOnceAsync(call, key, gate, destination, token),
                IsSubmitRetryable,
                cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Uploads local files through upload-asset and returns their hosted URLs, in order.</summary>
        public Task<IReadOnlyList<Uri>> UploadFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default)
        {
            if (paths is null)
            {
                throw new ArgumentNullException(nameof(paths));
            }

            ThrowIfDisposed();
            return UploadAsync(paths.Select(path => new KeyValuePair<string, string>(path, "Path")).ToList(), cancellationToken);
        }

        /// <summary>
        /// Writes the result's output (URL streamed, or base64 decoded) to <paramref name="destinationPath"/> through a
        /// temporary file and an atomic rename; constant memory. A record beside it (request id, length, SHA-256) lets a
        /// later call keep this job's verified complete file, replace a damaged copy, and refuse to replace an unrelated
        /// file (<see cref="SegmindOutputFileExistsException"/>) unless <paramref name="overwrite"/>.
        /// </summary>
        public async Task<DownloadedOutput> DownloadOutputAsync(JobResult result, string destinationPath, bool overwrite = false, CancellationToken cancellationToken = default)
        {
            if (result is null)
            {
                throw new ArgumentNullException(nameof(result));
            }

            ThrowIfDisposed();
            if (result.Status != JobState.Completed)
            {
                throw new SegmindValidationException("Result", $"Job '{result.RequestId}' is {result.Status}, not {JobState.Completed}: it has no output to save.");
            }

            if (result.OutputKind == OutputKind.None)
            {
                throw new SegmindValidationException("Result", $"Job '{result.RequestId}' is {JobState.Completed} but its result carries no output.");
            }

            var destination = FullPath(destinationPath, "Path");

            if (!overwrite)
            {
                switch (OutputRecord.Check(destination, result.RequestId))
                {
                    case ExistingOutput.Same:
                        return new DownloadedOutput(destination, new FileInfo(destination).Length, skipped: true);
                    case ExistingOutput.Unrelated:
                        throw OutputExists(destination, result.RequestId);
                }
            }

            // From here the destination is absent, a damaged copy of this output, or replacing was allowed. Each
            // path writes the record before renaming the video into place (PartialFile.CommitOutput).
            if (result.OutputKind == OutputKind.Base64 && result.Base64Requested == false)
            {
                throw new SegmindProtocolException(
                    $"The output of job '{result.RequestId}' is not an http(s) address, and the job did not ask for base64, so it is not decoded: '{Shortened(result.Output)}'.",
                    requestId: result.RequestId);
            }

            if (result.OutputHeldBack)
            {
                return await SaveHeldBackOutputAsync(result, destination, overwrite, cancellationToken).ConfigureAwait(false);
            }

            if (result.OutputKind == OutputKind.Base64)
            {
                return await SaveBase64Async(result.Output!, result.RequestId, destination, overwrite, cancellationToken).ConfigureAwait(false);
            }

            if (!Uri.TryCreate(result.Output, UriKind.Absolute, out var uri))
            {
                throw new SegmindValidationException("Result", $"The output of job '{result.RequestId}' is not a valid URL.");
            }

            UriRules.EnsureDownloadable(uri, "Result");
            return await _retry.RunAsync(
                (attempt, token) => DownloadOnceAsync(uri, result.RequestId, destination, overwrite, attempt, token),
                IsRetryable,
                cancellationToken,
                _options.Retrying == null ? null : (failed, delay, error) => _options.Retrying(new RetryNotice("GET", TraceAddress(uri), failed, delay, error.Message))).ConfigureAwait(false);
        }

        /// <summary>
        /// Commits a finished download as the output of <paramref name="requestId"/>: record first, then the video. Another
        /// run's verified copy of the same output found there by then is kept; an unrelated file is refused.
        /// </summary>
        private static DownloadedOutput PlaceOutput(PartialFile partial, string requestId, string destination, long length, bool overwrite)
        {
            switch (partial.CommitOutput(requestId, overwrite))
            {
                case PlacedOutput.Placed:
                    return new DownloadedOutput(destination, length, skipped: false);
                case PlacedOutput.KeptExisting:
                    return new DownloadedOutput(destination, new FileInfo(destination).Length, skipped: true);
                default:
                    throw OutputExists(destination, requestId);
            }
        }

        private static SegmindOutputFileExistsException OutputExists(string destination, string requestId) =>
            new SegmindOutputFileExistsException(
                $"'{destination}' already exists and is not the saved output of job '{requestId}'; it was left as it is.",
                destination,
                requestId);

        private async Task<SyncRunResult> RunOnceAsync(ApiCall call, ApiKey key, IRequestGate gate, string destination, CancellationToken cancellationToken)
        {
            ApiResponse? refusal = null;
            string? answeredId = null;
            var answered = false;
            try
            {
                var saved = await ApiTransport.SendAsync(
                    call,
                    key,
                    gate,
                    async (response, token) =>
                    {
                        var status = (int)response.StatusCode;
                        if (status < 200 || status > 299)
                        {
                            refusal = (await ApiTransport.ReadAsync(response, MaxResponseBytes(), token).ConfigureAwait(false)).Redacted(KeyRedactor.For(key));
                            return null;
                        }

                        answered = true;
                        answeredId = KeyRedactor.For(key).Clean(FirstHeader(response.Headers, "x-request-id"));
                        return await SaveRunOutputAsync(response, answeredId, destination, token).ConfigureAwait(false);
                    },
                    cancellationToken).ConfigureAwait(false);

                if (refusal != null)
                {
                    if (refusal.StatusCode == 422 && ResponseParser.TryFailedJob(refusal, out var failedId, out var reason))
                    {
                        // The run happened and the job itself failed: an outcome, reported like a failed v2 job.
                        var id = failedId ?? refusal.Header("x-request-id") ?? string.Empty;
                        throw JobFailed(id, Redact(reason, key));
                    }

                    throw ResponseError(call, refusal, key, gate, isSubmit: true);
                }

                return saved!;
            }
            catch (TransportFailureException failure)
            {
                if (answered)
                {
                    var which = answeredId is null ? "The run" : $"The run of job '{answeredId}'";
                    throw new SegmindSubmitOutcomeUnknownException(
                        $"{which} finished and was charged, but its output was cut off ({ErrorMapper.TrimEndPeriod(failure.Message)}); it is not re-run automatically, because every run is a new paid job.",
                        200,
                        answeredId,
                        null,
                        failure.InnerException ?? failure);
                }

                throw TransportError(call, failure, isSubmit: true);
            }
        }

        /// <summary>A 200 answer of the blocking run: the video itself, or JSON carrying it as base64.</summary>
        private async Task<SyncRunResult> SaveRunOutputAsync(HttpResponseMessage response, string? requestId, string destination, CancellationToken cancellationToken)
        {
            var content = response.Content;
            var mediaType = content?.Headers.ContentType?.MediaType ?? string.Empty;
            long length;
            using (var partial = new PartialFile(destination, 4096))
            {
                if (mediaType.StartsWith("video/", StringComparison.OrdinalIgnoreCase)
                    || mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(mediaType, "application/octet-stream", StringComparison.OrdinalIgnoreCase))
                {
                    using (var source = await content!.ReadAsStreamAsync().ConfigureAwait(false))
                    {
                        // The run's own timeout bounds the time; the cap bounds the size.
                        length = await CopyAsync(source, partial.Stream, idle: null, cancellationToken, new DownloadBudget(ElapsedClock(), MaxDownloadBytes(), TimeSpan.Zero, TimeSpan.Zero, 0, requestId ?? "run")).ConfigureAwait(false);
                    }

                    var expected = content.Headers.ContentLength;
                    if (expected.HasValue && expected.Value != length)
                    {
                        throw new IOException($"the body ended after {length} of {expected.Value} bytes");
                    }
                }
                else if (mediaType.IndexOf("json", StringComparison.OrdinalIgnoreCase) >= 0)
                {
                    byte[] body;
                    try
                    {
                        body = await ApiTransport.ReadCappedAsync(content, MaxResponseBytes(), truncate: false, cancellationToken).ConfigureAwait(false);
                    }
                    catch (SegmindProtocolException tooLarge)
                    {
                        throw new SegmindProtocolException(
                            ErrorMapper.TrimEndPeriod(tooLarge.Message) + "; the job ran and was charged, and it is not re-run automatically.",
                            200,
                            requestId,
                            inner: tooLarge);
                    }

                    var encoded = Base64Field(body);
                    if (encoded is null)
                    {
                        throw new SegmindProtocolException(
                            "The blocking run answered JSON without an 'image', 'output' or 'video' field; the job ran and was charged, and it is not re-run automatically.",
                            200,
                            requestId);
                    }

                    try
                    {
                        length = await Base64Decoder.DecodeToAsync(encoded, partial.Stream, cancellationToken).ConfigureAwait(false);
                    }
                    catch (FormatException bad)
                    {
                        throw new SegmindProtocolException(
                            "The blocking run answered base64 that does not decode; the job ran and was charged, and it is not re-run automatically.",
                            200,
                            requestId,
                            inner: bad);
                    }
                }
                else
                {
                    throw new SegmindProtocolException(
                        $"The blocking run answered content of type '{mediaType}', neither a video nor JSON; the job ran and was charged, and it is not re-run automatically.",
                        200,
                        requestId);
                }

                partial.Commit(overwrite: true);
            }

            var headers = response.Headers;
            return new SyncRunResult(
                requestId,
                destination,
                length,
                string.IsNullOrEmpty(mediaType) ? null : mediaType,
                HeaderNumber(headers, "x-cost"),
                HeaderNumber(headers, "x-remaining-credits"),
                HeaderNumber(headers, "x-generation-time"),
                long.TryParse(FirstHeader(headers, "x-seed-value"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : (long?)null);
        }

        private static string? Base64Field(byte[] body)
        {
            using (var document = JsonValues.TryParse(body))
            {
                if (document is null)
                {
                    return null;
                }

                foreach (var name in new[] { "image", "output", "video" })
                {
                    var value = JsonValues.GetString(document.RootElement, name);
                    if (!string.IsNullOrWhiteSpace(value))
                    {
                        return value;
                    }
                }

                return null;
            }
        }

        /// <summary>Uploads (path, field) pairs; the field names the parameter in validation errors.</summary>
        private async Task<IReadOnlyList<Uri>> UploadAsync(IReadOnlyList<KeyValuePair<string, string>> items, CancellationToken cancellationToken)
        {
            if (items.Count == 0)
            {
                return Array.Empty<Uri>();
            }

            var limit = _options.MaxUploadBytes > 0 ? _options.MaxUploadBytes : 100L * 1024 * 1024;
            var files = new List<UploadFile>(items.Count);
            foreach (var item in items)
            {
                var field = item.Value;
                var path = FullPath(item.Key, field);
                var info = new FileInfo(path);
                if (!info.Exists)
                {
                    throw new SegmindValidationException(field, $"{field} '{item.Key}' is not an existing file.");
                }

                WanAnimateRequest.EnsureUsableLocalFile(field, item.Key, path);

                if (info.Length > limit)
                {
                    throw new SegmindValidationException(
                        field,
                        $"{field} '{item.Key}' has {info.Length / (1024.0 * 1024.0):0.#} MB, more than the {limit / (1024.0 * 1024.0):0.#} MB that can be uploaded; host it somewhere and pass its URL instead.");
                }

                files.Add(new UploadFile(path, field, info.Length, MimeTypes.FromPath(path)));
            }

            // A big upload over a slow line must not hit the plain request timeout: allow 256 KB/s on top.
            var total = files.Sum(file => DataUrlsContent.Base64Length(file.Length));
            var call = new ApiCall(HttpMethod.Post, UploadUri(), RequestKind.Upload, "upload the input files")
            {
                UriField = "UploadUri",
                Content = () => new DataUrlsContent(files),
                Timeout = _options.RequestTimeout + TimeSpan.FromSeconds(total / (256.0 * 1024)),
                Time = _time,
            };

            // Uploading twice costs nothing but storage, so an upload is retried like a GET.
            var response = await CallAsync(call, isSubmit: false, acceptStatus: null, cancellationToken).ConfigureAwait(false);
            return ResponseParser.UploadedUrls(response, files.Count);
        }

        private Uri UploadUri()
        {
            if (_options.UploadUri != null)
            {
                return _options.UploadUri;
            }

            var baseUri = BaseUri();
            return UriRules.IsLoopback(baseUri) ? new Uri(baseUri, "upload-asset") : SegmindClientOptions.DefaultUploadUri;
        }

        /// <summary>The request with its local files replaced by their hosted URLs (unchanged when both are URLs).</summary>
        private async Task<WanAnimateRequest> UploadLocalInputsAsync(WanAnimateRequest request, CancellationToken cancellationToken)
        {
            var locals = new List<KeyValuePair<string, string>>();
            if (!WanAnimateRequest.LooksLikeUrl(request.InputVideo))
            {
                locals.Add(new KeyValuePair<string, string>(request.InputVideo.Trim(), nameof(WanAnimateRequest.InputVideo)));
            }

            if (!WanAnimateRequest.LooksLikeUrl(request.ReferenceImage))
            {
                locals.Add(new KeyValuePair<string, string>(request.ReferenceImage.Trim(), nameof(WanAnimateRequest.ReferenceImage)));
            }

            if (locals.Count == 0)
            {
                return request;
            }

            var urls = await UploadAsync(locals, cancellationToken).ConfigureAwait(false);
            var next = 0;
            var video = WanAnimateRequest.LooksLikeUrl(request.InputVideo) ? request.InputVideo : urls[next++].AbsoluteUri;
            var image = WanAnimateRequest.LooksLikeUrl(request.ReferenceImage) ? request.ReferenceImage : urls[next].AbsoluteUri;
            return request.WithInputs(video, image);
        }

        private async Task<DownloadedOutput> SaveBase64Async(string encoded, string requestId, string destination, bool overwrite, CancellationToken cancellationToken)
        {
            DownloadBudgetFor(requestId, _options.RequestTimeout).CheckDeclared(encoded.Length / 4L * 3);
            var head = VideoSignature.HeadOfBase64(encoded);
            if (!VideoSignature.Matches(head, 0, head.Length))
            {
                throw NotAVideo(requestId, encoded);
            }

            using (var partial = new PartialFile(destination, 4096))
            {
                long length;
                try
                {
                    length = await Base64Decoder.DecodeToAsync(encoded, partial.Stream, cancellationToken).ConfigureAwait(false);
                }
                catch (FormatException bad)
                {
                    throw new SegmindProtocolException($"The base64 output of job '{requestId}' does not decode.", requestId: requestId, inner: bad);
                }

                return PlaceOutput(partial, requestId, destination, length, overwrite);
            }
        }

        /// <summary>One attempt: stream the URL to a partial file, verify its length, rename. Transient failures start over.</summary>
        private async Task<DownloadedOutput> DownloadOnceAsync(Uri uri, string requestId, string destination, bool overwrite, int attempt, CancellationToken cancellationToken)
        {
            var trace = _options.Exchanged;
            // The trace reports the real time the download host took, whatever clock the client runs on.
            var sent = trace == null ? null : System.Diagnostics.Stopwatch.StartNew();
            var idle = _options.RequestTimeout;
            var http = HttpClientCache.ForDownload(uri);
            using (var watchdog = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var idleWatch = new IdleWatch(watchdog, idle, _time))
            {
                HttpResponseMessage response;
                try
                {
                    using (var request = new HttpRequestMessage(HttpMethod.Get, uri))
                    {
                        response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, watchdog.Token).ConfigureAwait(false);
                    }
                }
                catch (Exception error) when (ApiTransport.IsTransportFailure(error))
                {
                    trace?.Invoke(new HttpExchange("GET", TraceAddress(uri), attempt, null, "no answer: " + error.GetType().Name, sent!.Elapsed, carriedKey: false));
                    throw DownloadFailure(error, requestId, idle, watchdog, cancellationToken);
                }
                catch (Exception error) when (error is UriFormatException || error is InvalidOperationException || error is ArgumentException || error is NotSupportedException)
                {
                    // A redirect to an address that is not http(s) (file:, ftp:...): an answer of the server, not a bug here.
                    throw new SegmindProtocolException(
                        $"The output download of job '{requestId}' from '{UriRules.Describe(uri)}' was redirected to an address that cannot be fetched ({ErrorMapper.TrimEndPeriod(error.Message)}); only http(s) outputs are saved, and nothing was written.",
                        requestId: requestId,
                        inner: error);
                }

                trace?.Invoke(new HttpExchange("GET", TraceAddress(uri), attempt, (int)response.StatusCode, response.ReasonPhrase, sent!.Elapsed, carriedKey: false));
                using (response)
                using (watchdog.Token.Register(state => ((HttpResponseMessage)state!).Dispose(), response))
                {
                    var status = (int)response.StatusCode;
                    if (status < 200 || status > 299)
                    {
                        byte[] body;
                        try
                        {
                            body = await ApiTransport.ReadCappedAsync(response.Content, 64 * 1024, truncate: true, watchdog.Token).ConfigureAwait(false);
                        }
                        catch (Exception error) when (ApiTransport.IsTransportFailure(error) && !cancellationToken.IsCancellationRequested)
                        {
                            body = Array.Empty<byte>();
                        }

                        cancellationToken.ThrowIfCancellationRequested();
                        throw DownloadError(status, response, requestId, ServerMessage.Extract(CleanFromServer(body)));
                    }

                    var expected = response.Content?.Headers.ContentLength;
                    var budget = DownloadBudgetFor(requestId, idle);
                    budget.CheckDeclared(expected);
                    using (var partial = new PartialFile(destination, 4096))
                    {
                        Stream source;
                        try
                        {
                            source = await response.Content!.ReadAsStreamAsync().ConfigureAwait(false);
                        }
                        catch (Exception error) when (ApiTransport.IsTransportFailure(error))
                        {
                            throw DownloadFailure(error, requestId, idle, watchdog, cancellationToken);
                        }

                        long length;
                        using (source)
                        {
                            try
                            {
                                length = await CopyAsync(source, partial.Stream, idleWatch, cancellationToken, budget).ConfigureAwait(false);
                            }
                            catch (NetworkReadFailure failure)
                            {
                                // Only network errors are retried; a full disk is reported as it is.
                                throw DownloadFailure(failure, requestId, idle, watchdog, cancellationToken);
                            }
                        }

                        if (expected.HasValue && expected.Value != length)
                        {
                            throw new SegmindServerException($"The output download of job '{requestId}' was cut short: {length} of {expected.Value} bytes arrived.", requestId: requestId);
                        }

                        return PlaceOutput(partial, requestId, destination, length, overwrite);
                    }
                }
            }
        }

        /// <summary>An output address for tracing: without its query, which on a signed link is a credential of its own.</summary>
        private static Uri TraceAddress(Uri uri) =>
            string.IsNullOrEmpty(uri.Query) ? uri : new Uri(uri.GetLeftPart(UriPartial.Path) + "?(query hidden)");

        /// <summary>Copies with one pooled 80 KB buffer (below the large-object threshold): memory stays flat whatever the size.</summary>
        private static async Task<long> CopyAsync(Stream source, Stream destination, IdleWatch? idle, CancellationToken cancellationToken, DownloadBudget? budget = null)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(ApiTransport.BufferSize);
            try
            {
                long total = 0;
                while (true)
                {
                    int read;
                    try
                    {
                        idle?.Rearm();
                        read = await source.ReadAsync(buffer, 0, ApiTransport.BufferSize, idle?.Token ?? cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception error) when (ApiTransport.IsTransportFailure(error))
                    {
                        throw new NetworkReadFailure(error);
                    }

                    if (read == 0)
                    {
                        return total;
                    }

                    total += read;
                    budget?.Check(total);
                    await destination.WriteAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        private static SegmindException DownloadFailure(Exception error, string requestId, TimeSpan idle, CancellationTokenSource watchdog, CancellationToken cancellationToken)
        {
            var cause = error is NetworkReadFailure wrapped ? wrapped.InnerException! : error;
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("The download was canceled.", cause, cancellationToken);
            }

            if (watchdog.IsCancellationRequested)
            {
                return new SegmindServerException($"The output download of job '{requestId}' stalled: no data for {ErrorMapper.Seconds(idle)}.", requestId: requestId, inner: cause);
            }

            return new SegmindServerException(
                $"The output download of job '{requestId}' failed: {ErrorMapper.TrimEndPeriod(cause.Message)}.",
                requestId: requestId,
                inner: cause);
        }

        private SegmindException DownloadError(int status, HttpResponseMessage response, string requestId, string? serverMessage)
        {
            var reason = CleanFromServer(response.ReasonPhrase);
            var label = ErrorMapper.Label(status, reason);
            switch (status)
            {
                case 403:
                    return new SegmindPermissionException(
                        $"The output link of job '{requestId}' is refused ({label}); links expire, so get the job's result again for a fresh one (results are kept for 1 hour after submission).",
                        status,
                        requestId,
                        serverMessage);
                case 404:
                case 410:
                    return new SegmindNotFoundException(
                        $"The output link of job '{requestId}' leads nowhere ({label}); links expire, so get the job's result again for a fresh one (results are kept for 1 hour after submission).",
                        status,
                        requestId,
                        serverMessage);
            }

            var retryAfter = status == 429 || status == 503 ? RetryAfter.FromHeaders(response.Headers, Now(), HintCap()) : null;
            var error = ErrorMapper.Map(status, reason, $"download the output of job '{requestId}'", requestId, serverMessage, retryAfter);
            error.RetryAfterHint = retryAfter;
            return error;
        }

        private DownloadBudget DownloadBudgetFor(string requestId, TimeSpan grace) =>
            new DownloadBudget(ElapsedClock(), MaxDownloadBytes(), _options.DownloadTimeout, grace, _options.MinDownloadBytesPerSecond, requestId);

        /// <summary>The output cap: the option, else the environment variable, else the default.</summary>
        internal long MaxDownloadBytes()
        {
            if (_options.MaxDownloadBytes > 0)
            {
                return _options.MaxDownloadBytes;
            }

            var fromEnvironment = Environment.GetEnvironmentVariable(SegmindClientOptions.MaxOutputBytesEnvironmentVariable);
            return long.TryParse(fromEnvironment, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : SegmindClientOptions.DefaultMaxDownloadBytes;
        }

        private static SegmindProtocolException NotAVideo(string requestId, string? output) =>
            new SegmindProtocolException(
                $"The output of job '{requestId}' is neither an http(s) address nor base64 of a video, so nothing was saved: '{Shortened(output)}'.",
                requestId: requestId);

        private static string Shortened(string? text) =>
            text is null ? string.Empty : text.Length <= 80 ? text : text.Substring(0, 80) + "...";

        /// <summary>A download host never gets the key, but may be the same hostile server: its words are cleaned too.</summary>
        private string? CleanFromServer(string? text)
        {
            var key = _options.ApiKey ?? ApiKey.FromEnvironment();
            return key is null ? text : KeyRedactor.For(key).Clean(text);
        }

        private byte[] CleanFromServer(byte[] body)
        {
            var key = _options.ApiKey ?? ApiKey.FromEnvironment();
            return key is null ? body : KeyRedactor.For(key).Clean(body);
        }

        private static string FullPath(string? path, string field)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                throw new SegmindValidationException(field, $"{field} is empty.");
            }

            try
            {
                return Path.GetFullPath(path);
            }
            catch (Exception error) when (error is ArgumentException || error is NotSupportedException || error is PathTooLongException)
            {
                throw new SegmindValidationException(field, $"{field} '{path}' is not a valid path: {ErrorMapper.TrimEndPeriod(error.Message)}.");
            }
        }

        private static string? FirstHeader(HttpResponseHeaders headers, string name) =>
            headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

        private static double? HeaderNumber(HttpResponseHeaders headers, string name) =>
            double.TryParse(FirstHeader(headers, name), NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : (double?)null;

        /// <summary>
        /// Cancels the download's source once no data came for the idle time, measured on the client's clock; restarted
        /// before each read: a download may take long, but may not stall.
        /// </summary>
        private sealed class IdleWatch : IDisposable
        {
            private readonly CancellationTokenSource _source;
            private readonly TimeSpan _idle;

            // Null on the real clock, where the source's own timer does the same with less.
            private readonly ClockTimer? _timer;

            public IdleWatch(CancellationTokenSource source, TimeSpan idle, TimeProvider time)
            {
                _source = source;
                _idle = idle > TimeSpan.Zero && idle != Timeout.InfiniteTimeSpan ? idle : Timeout.InfiniteTimeSpan;
                if (_idle != Timeout.InfiniteTimeSpan && !ReferenceEquals(time, TimeProvider.System))
                {
                    _timer = new ClockTimer(time, () =>
                    {
                        try
                        {
                            source.Cancel();
                        }
                        catch (ObjectDisposedException)
                        {
                            // The download ended first.
                        }
                    });
                }

                Rearm();
            }

            public CancellationToken Token => _source.Token;

            public void Rearm()
            {
                if (_idle == Timeout.InfiniteTimeSpan)
                {
                    return;
                }

                if (_timer != null)
                {
                    _timer.Schedule(_idle);
                }
                else
                {
                    _source.CancelAfter(_idle);
                }
            }

            public void Dispose() => _timer?.Dispose();
        }

        /// <summary>A failure reading the network, as opposed to writing the disk (which must not be retried).</summary>
        private sealed class NetworkReadFailure : IOException
        {
            public NetworkReadFailure(Exception inner)
                : base(inner.Message, inner)
            {
            }
        }
    }
}
