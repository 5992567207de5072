using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client.Http;

namespace Segmind.Client
{
    /// <summary>
    /// Speaks Segmind's serverless API: v2 submit/status/result, v1 blocking run, upload-asset, credits and
    /// output download. Thread-safe; shares one HttpClient per process and base address.
    /// </summary>
    public sealed partial class SegmindClient : IDisposable
    {
        private readonly SegmindClientOptions _options;
        private readonly RetryLoop _retry;
        private readonly Func<TimeSpan, CancellationToken, Task> _delay;
        private readonly TimeProvider _time;
        private readonly IJobStatusSource _statusSource;
        private ResolvedBaseUri? _resolvedBase;
        private int _disposed;

        public SegmindClient(SegmindClientOptions options)
            : this(options, delay: null, clock: null)
        {
        }

        /// <summary>With an injected delay (tests of the retry bounds); every other wait runs on <see cref="SegmindClientOptions.TimeProvider"/>.</summary>
        internal SegmindClient(SegmindClientOptions options, Func<TimeSpan, CancellationToken, Task>? delay, Func<TimeSpan>? clock)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _time = options.TimeProvider ?? TimeProvider.System;
            var time = _time;
            _delay = delay ?? ((wait, token) => time.Delay(wait, token));
            var started = time.GetTimestamp();
            _retry = new RetryLoop(() => _options.Retry ?? new RetryOptions(), _delay, clock ?? (() => time.GetElapsedTime(started)));
            _statusSource = new SegmindClientJobStatusSource(this);
        }

        public SegmindClientOptions Options => _options;

        /// <summary>Validates, uploads local files, and POSTs <c>/v2/wan-animate</c> once. Never re-sent after it may have reached the server.</summary>
        public Task<SubmittedJob> SubmitAsync(WanAnimateRequest request, CancellationToken cancellationToken = default) =>
            SubmitAsync(request, stages: null, cancellationToken);

        /// <summary>
        /// As <see cref="SubmitAsync(WanAnimateRequest, CancellationToken)"/>, telling <paramref name="stages"/> when each
        /// attempt goes on the wire and when one provably did not reach the server (see <see cref="ISubmitStages"/>).
        /// </summary>
        public async Task<SubmittedJob> SubmitAsync(WanAnimateRequest request, ISubmitStages? stages, CancellationToken cancellationToken = default)
        {
            if (request is null)
            {
                throw new ArgumentNullException(nameof(request));
            }

            ThrowIfDisposed();
            request.Validate();
            RequireKey();
            var ready = await UploadLocalInputsAsync(request, cancellationToken).ConfigureAwait(false);
            return await SubmitBodyAsync(SubmitUri(WanAnimateRequest.Slug), ready.ToJsonBody(), cancellationToken, stages).ConfigureAwait(false);
        }

        /// <summary>POST <c>/v2/{slug}</c> with the parameters as JSON.</summary>
        public async Task<SubmittedJob> SubmitAsync(string slug, IDictionary<string, object?> parameters, CancellationToken cancellationToken = default)
        {
            if (parameters is null)
            {
                throw new ArgumentNullException(nameof(parameters));
            }

            ThrowIfDisposed();
            var body = JsonSerializer.SerializeToUtf8Bytes(parameters);
            return await SubmitBodyAsync(SubmitUri(slug), body, cancellationToken).ConfigureAwait(false);
        }

        private async Task<SubmittedJob> SubmitBodyAsync(Uri submitUri, byte[] body, CancellationToken cancellationToken, ISubmitStages? stages = null)
        {
            var call = new ApiCall(HttpMethod.Post, submitUri, RequestKind.Submit, "submit the job")
            {
                Content = () => JsonContent(body),
                Timeout = _options.RequestTimeout,
                Time = _time,
                BeginSending = stages is null ? null : (Func<IDisposable?>)stages.BeginSending,
            };

            // Retention-aware admission: beyond what can be collected inside the retention window, rows wait here.
            var planner = JobPollerRegistry.Shared(RequireKey(), BaseUri(), _time).Planner;
            planner.Retention = Retention;
            await planner.WaitForRoomAsync(cancellationToken).ConfigureAwait(false);
            var sending = Now();

            var response = await CallAsync(call, isSubmit: true, acceptStatus: null, cancellationToken, stages).ConfigureAwait(false);
            var submitted = ResponseParser.Submitted(response, BaseUri(), Now(), IsApiHost, IgnoredJobUrl);

            // Its retention window started no earlier than this request left: planning from then is never late.
            planner.OnSubmitted(submitted.RequestId, sending);
            return submitted;
        }

        /// <summary>One status poll. FAILED is returned as data.</summary>
        public async Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken = default)
        {
            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            ThrowIfDisposed();
            var uri = JobUri(job.StatusUrl, job.RequestId, "/status", "StatusUrl", out var field);
            var call = new ApiCall(HttpMethod.Get, uri, RequestKind.Status, $"check the status of job '{job.RequestId}'")
            {
                UriField = field,
                RequestId = job.RequestId,
                Timeout = _options.RequestTimeout,
                Time = _time,
            };

            var response = await CallAsync(call, isSubmit: false, acceptStatus: IsFailedJobAnswer, cancellationToken).ConfigureAwait(false);
            return ResponseParser.Status(response, job.RequestId, RequireKey(), Now());
        }

        /// <summary>The job's result. FAILED (HTTP 422) is returned as data; 404 throws <see cref="SegmindNotFoundException"/>.</summary>
        public async Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken = default)
        {
            if (job is null)
            {
                throw new ArgumentNullException(nameof(job));
            }

            ThrowIfDisposed();
            var uri = JobUri(job.ResponseUrl, job.RequestId, string.Empty, "ResponseUrl", out var field);
            var call = new ApiCall(HttpMethod.Get, uri, RequestKind.Result, $"get the result of job '{job.RequestId}'")
            {
                UriField = field,
                RequestId = job.RequestId,
                Timeout = _options.RequestTimeout,
                Time = _time,
            };

            var response = await CallAsync(call, isSubmit: false, acceptStatus: IsFailedJobAnswer, cancellationToken, read: (message, token) => ReadResultAsync(message, job.RequestId, token)).ConfigureAwait(false);
            return ResponseParser.Result(response, job.RequestId, RequireKey(), Now());
        }

        /// <summary>
        /// Polls on the back-off schedule until COMPLETED (returns the result), FAILED (throws
        /// <see cref="SegmindJobFailedException"/>) or the timeout (throws <see cref="SegmindWaitTimeoutException"/>).
        /// </summary>
        /// <param name="job">The job to follow.</param>
        /// <param name="timeout">How long to wait: null is <see cref="SegmindClientOptions.WaitTimeout"/>, <see cref="Timeout.InfiniteTimeSpan"/> waits for ever.</param>
        /// <param name="progress">Hears every status read (it must not block; what it throws is ignored).</param>
        /// <param name="cancellationToken">Stops this wait only (the job goes on at Segmind).</param>
        /// <remarks>
        /// Every wait of the process, from any client, is one entry of the shared poller of its account and address
        /// (<see cref="JobPollerRegistry"/>): no loop or timer per job, polls spread over time. The polls themselves go
        /// through this client (its retries, request timeout and request gate) on <see cref="SegmindClientOptions.PollSchedule"/>.
        /// A 404, 401 or 403 ends the wait with the client's error; transient failures (429, 5xx, network, malformed
        /// answers) that outlast the retries do not: the job is polled again on its back-off until the timeout, whose
        /// message then names the last failure.
        /// </remarks>
        public Task<JobResult> WaitAsync(JobReference job, TimeSpan? timeout = null, IProgress<JobStatus>? progress = null, CancellationToken cancellationToken = default)
        {
            // Not an async method: the poller's task is handed back as is, so a wait holds no state machine of its own.
            // What the checks below throw still arrives as a faulted task, as it would from an async method.
            try
            {
                if (job is null)
                {
                    throw new ArgumentNullException(nameof(job));
                }

                ThrowIfDisposed();
                var limit = timeout ?? _options.WaitTimeout;
                if (limit < TimeSpan.Zero && limit != Timeout.InfiniteTimeSpan)
                {
                    throw new SegmindValidationException("Timeout", "The wait timeout must not be negative.");
                }

                var schedule = _options.PollSchedule ?? PollSchedule.Default;
                var poller = JobPollerRegistry.Shared(RequireKey(), BaseUri(), _time);
                poller.Planner.Retention = Retention;
                var deadline = poller.DeadlineAfter(limit);
                var source = _statusSource;
                return BoundedWait(job, limit, (token, observer) => poller.Track(job, source, schedule, deadline, limit, token, observer), progress, cancellationToken);
            }
            catch (OperationCanceledException cancelled)
            {
                return Task.FromCanceled<JobResult>(cancelled.CancellationToken.IsCancellationRequested ? cancelled.CancellationToken : new CancellationToken(true));
            }
            catch (Exception error)
            {
                return Task.FromException<JobResult>(error);
            }
        }

        public async Task<CreditBalance> GetCreditsAsync(CancellationToken cancellationToken = default)
        {
            ThrowIfDisposed();
            var call = new ApiCall(HttpMethod.Get, new Uri(BaseUri(), "v1/get-user-credits"), RequestKind.Credits, "read the credit balance")
            {
                Timeout = _options.RequestTimeout,
                Time = _time,
            };

            var response = await CallAsync(call, isSubmit: false, acceptStatus: null, cancellationToken).ConfigureAwait(false);
            return ResponseParser.Credits(response, Now());
        }

        public void Dispose()
        {
            // The HttpClients are process-wide and outlive any one client; only this object is retired.
            Interlocked.Exchange(ref _disposed, 1);
        }

        /// <summary>One API call with bounded retries: GET-like calls on any transient failure, submits only when provably not accepted.</summary>
        private Task<ApiResponse> CallAsync(
            ApiCall call,
            bool isSubmit,
            Func<int, bool>? acceptStatus,
            CancellationToken cancellationToken,
            ISubmitStages? stages = null,
            Func<HttpResponseMessage, CancellationToken, Task<ApiResponse>>? read = null)
        {
            var key = RequireKey();
            var gate = Gate(key);
            return _retry.RunAsync(
                (attempt, token) => stages is null ? CallOnceAsync(call, key, gate, isSubmit, acceptStatus, attempt, token, read) : SubmitOnceAsync(call, key, gate, stages, attempt, token),
                isSubmit ? (Func<Exception, bool>)IsSubmitRetryable : IsRetryable,
                cancellationToken,
                _options.Retrying == null ? null : (failed, delay, error) => _options.Retrying(new RetryNotice(call.Method.Method, call.Uri, failed, delay, error.Message)));
        }

        /// <summary>One submit attempt; one that provably did not reach the server is reported before it is retried.</summary>
        private async Task<ApiResponse> SubmitOnceAsync(ApiCall call, ApiKey key, IRequestGate gate, ISubmitStages stages, int attempt, CancellationToken cancellationToken)
        {
            try
            {
                return await CallOnceAsync(call, key, gate, isSubmit: true, acceptStatus: null, attempt, cancellationToken).ConfigureAwait(false);
            }
            catch (SegmindException refused) when (IsSubmitRetryable(refused))
            {
                stages.NotSent(refused);
                throw;
            }
        }

        private async Task<ApiResponse> CallOnceAsync(
            ApiCall call,
            ApiKey key,
            IRequestGate gate,
            bool isSubmit,
            Func<int, bool>? acceptStatus,
            int attempt,
            CancellationToken cancellationToken,
            Func<HttpResponseMessage, CancellationToken, Task<ApiResponse>>? read = null)
        {
            ApiResponse response;
            var trace = _options.Exchanged;
            try
            {
                response = await ApiTransport.SendAsync(
                    call,
                    key,
                    gate,
                    async (message, token) =>
                    {
                        var answer = read is null
                            ? await ApiTransport.ReadAsync(message, MaxResponseBytes(), token).ConfigureAwait(false)
                            : await read(message, token).ConfigureAwait(false);
                        if (_options.BatchStop != null && BatchStop.IsBatchFatal(answer.StatusCode))
                        {
                            // Seen while this request still holds its gate slot, so no request queued behind it slips past the stop.
                            ResponseError(call, answer.Redacted(KeyRedactor.For(key)), key, gate, isSubmit);
                        }

                        return answer;
                    },
                    cancellationToken,
                    trace == null ? null : (status, outcome, elapsed) => trace(new HttpExchange(call.Method.Method, call.Uri, attempt, status, outcome, elapsed))).ConfigureAwait(false);

                // The boundary: nothing below sees the answer before the key is taken out of it.
                response = response.Redacted(KeyRedactor.For(key));
            }
            catch (TransportFailureException failure)
            {
                throw TransportError(call, failure, isSubmit);
            }
            catch (SegmindProtocolException tooLarge) when (isSubmit)
            {
                // Only a 2xx answer is read whole: the submit was accepted, and its answer is unusable (see ResponseParser.Submitted).
                throw new SegmindSubmitOutcomeUnknownException(
                    "Segmind accepted the submit but " + char.ToLowerInvariant(tooLarge.Message[0]) + ErrorMapper.TrimEndPeriod(tooLarge.Message).Substring(1)
                        + "; the job may have been created and charged, and it is not re-sent automatically because every submit creates a new paid job.",
                    tooLarge.StatusCode ?? 200,
                    null,
                    null,
                    tooLarge);
            }

            if ((response.StatusCode >= 200 && response.StatusCode <= 299) || (acceptStatus != null && acceptStatus(response.StatusCode)))
            {
                return response;
            }

            throw ResponseError(call, response, key, gate, isSubmit);
        }

        /// <summary>The typed exception for an unwanted answer; a 429 also slows the shared gate down.</summary>
        private SegmindException ResponseError(ApiCall call, ApiResponse response, ApiKey key, IRequestGate gate, bool isSubmit)
        {
            var status = response.StatusCode;
            var serverMessage = Redact(ServerMessage.Extract(response.Body), key);
            var requestId = call.RequestId ?? response.Header("x-request-id");
            TimeSpan? retryAfter = null;
            if (status == 429 || status == 503)
            {
                retryAfter = RetryAfter.FromHeaders(response.Headers, Now(), HintCap());
            }

            if (status == 429)
            {
                gate.ReportRateLimited(retryAfter);
            }

            if (isSubmit && (status == 408 || status >= 500 || status < 400))
            {
                var label = ErrorMapper.Label(status, response.Reason);
                var said = serverMessage is null ? string.Empty : ": " + ErrorMapper.TrimEndPeriod(serverMessage);
                return new SegmindSubmitOutcomeUnknownException(
                    $"The job may have been submitted ({label}{said}); it is not re-sent automatically because every submit creates a new paid job, so check the credit balance or the Segmind dashboard before submitting it again.",
                    status,
                    serverMessage);
            }

            var error = ErrorMapper.Map(status, response.Reason, call.Action, requestId, serverMessage, retryAfter);
            error.RetryAfterHint = retryAfter;
            _options.BatchStop?.Observe(error, call.Kind);
            return error;
        }

        private static SegmindException TransportError(ApiCall call, TransportFailureException failure, bool isSubmit)
        {
            if (failure.ProvablyNotSent)
            {
                return new SegmindServerException(
                    $"{ErrorMapper.TrimEndPeriod(failure.Message)}, so nothing was sent to {call.Action}.",
                    inner: failure.InnerException ?? failure)
                {
                    ProvablyNotSent = true,
                };
            }

            if (isSubmit)
            {
                return new SegmindSubmitOutcomeUnknownException(
                    $"The job may have been submitted ({ErrorMapper.TrimEndPeriod(failure.Message)}); it is not re-sent automatically because every submit creates a new paid job, so check the credit balance or the Segmind dashboard before submitting it again.",
                    inner: failure.InnerException ?? failure);
            }

            return new SegmindServerException(
                $"{ErrorMapper.TrimEndPeriod(failure.Message)}, while trying to {call.Action}.",
                requestId: call.RequestId,
                inner: failure.InnerException ?? failure);
        }

        private static bool IsRetryable(Exception error) => error is SegmindException segmind && segmind.IsTransient;

        /// <summary>THE SUBMIT RULE: repeat only what provably was not accepted.</summary>
        private static bool IsSubmitRetryable(Exception error) =>
            error is SegmindRateLimitedException || (error is SegmindException segmind && segmind.ProvablyNotSent);

        private static bool IsFailedJobAnswer(int status) => status == 422;

        internal static SegmindJobFailedException JobFailed(string requestId, string? error)
        {
            var said = string.IsNullOrWhiteSpace(error) ? "Segmind gave no reason" : ErrorMapper.TrimEndPeriod(error!);
            var which = string.IsNullOrEmpty(requestId) ? "The job" : $"Job '{requestId}'";
            return new SegmindJobFailedException($"{which} failed at Segmind: {said}.", requestId, error);
        }

        internal ApiKey RequireKey()
        {
            var key = _options.ApiKey ?? ApiKey.FromEnvironment();
            if (key is null)
            {
                throw new SegmindAuthenticationException("No API key: pass -ApiKey or set SEGMIND_API_KEY.", statusCode: null);
            }

            return key;
        }

        internal Uri BaseUri() => ResolvedBase().Normalized;

        /// <summary>
        /// The checked base address, worked out once per <see cref="SegmindClientOptions.BaseUri"/> value (a Uri is
        /// immutable, so the same reference means the same address) instead of on every request.
        /// </summary>
        private ResolvedBaseUri ResolvedBase()
        {
            var given = _options.BaseUri ?? SegmindClientOptions.DefaultBaseUri;
            var cached = _resolvedBase;
            if (cached != null && ReferenceEquals(cached.Given, given))
            {
                return cached;
            }

            var baseUri = UriRules.NormalizeBase(given);
            UriRules.EnsureKeyMayBeSentTo(baseUri, "BaseUri");
            var resolved = new ResolvedBaseUri(given, baseUri);
            _resolvedBase = resolved;
            return resolved;
        }

        /// <summary>POST <c>/v2/{slug}</c>, remembered for the last slug (a client submits to one model).</summary>
        private Uri SubmitUri(string slug)
        {
            var resolved = ResolvedBase();
            var last = resolved.LastSubmit;
            if (last != null && string.Equals(last.Slug, slug, StringComparison.Ordinal))
            {
                return last.Uri;
            }

            var uri = new Uri(resolved.Normalized, "v2/" + EscapeSlug(slug));
            resolved.LastSubmit = new SlugUri(slug, uri);
            return uri;
        }

        private sealed class ResolvedBaseUri
        {
            public ResolvedBaseUri(Uri given, Uri normalized)
            {
                Given = given;
                Normalized = normalized;
            }

            public Uri Given { get; }

            public Uri Normalized { get; }

            /// <summary>Replaced whole, never edited, so a reader on another thread sees a matching pair.</summary>
            public SlugUri? LastSubmit { get; set; }
        }

        private sealed class SlugUri
        {
            public SlugUri(string slug, Uri uri)
            {
                Slug = slug;
                Uri = uri;
            }

            public string Slug { get; }

            public Uri Uri { get; }
        }

        private IRequestGate Gate(ApiKey key)
        {
            var gate = _options.RequestGate ?? RequestGateRegistry.Get(key, BaseUri(), _time);
            return _options.BatchStop is BatchStop stop ? stop.Guard(gate) : gate;
        }

        private long MaxResponseBytes() => _options.MaxResponseBytes > 0 ? _options.MaxResponseBytes : 16L * 1024 * 1024;

        /// <summary>Absurd server hints are clamped here: four times the longest back-off.</summary>
        private TimeSpan HintCap()
        {
            var maxDelay = (_options.Retry ?? new RetryOptions()).MaxDelay;
            return TimeSpan.FromTicks(Math.Max(0, maxDelay.Ticks) * 4);
        }

        private static ByteArrayContent JsonContent(byte[] body)
        {
            var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            return content;
        }

        private static string EscapeSlug(string slug)
        {
            if (string.IsNullOrWhiteSpace(slug))
            {
                throw new SegmindValidationException("Slug", "The model slug is empty.");
            }

            return Uri.EscapeDataString(slug.Trim());
        }

        internal static string? Redact(string? text, ApiKey key)
        {
            if (text is null)
            {
                return null;
            }

            return KeyRedactor.For(key).Clean(text);
        }

        private DateTimeOffset Now() => _time.GetUtcNow();

        /// <summary>The clock every wait of this client runs on.</summary>
        internal TimeProvider Time => _time;

        /// <summary>How long Segmind keeps a job's status and result after its submission, as this client plans with it.</summary>
        public TimeSpan Retention => _options.ResolveRetention();

        internal static string Describe(TimeSpan value) =>
            value.TotalSeconds < 120 ? ErrorMapper.Seconds(value) : TimeSpan.FromSeconds(Math.Round(value.TotalSeconds)).ToString("c", System.Globalization.CultureInfo.InvariantCulture);

        private void ThrowIfDisposed()
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                throw new ObjectDisposedException(nameof(SegmindClient));
            }
        }
    }
}
