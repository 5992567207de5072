using System;
using System.Buffers;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.Http
{
    /// <summary>One API request as the client means it.</summary>
    internal sealed class ApiCall
    {
        public ApiCall(HttpMethod method, Uri uri, RequestKind kind, string action)
        {
            Method = method;
            Uri = uri;
            Kind = kind;
            Action = action;
        }

        public HttpMethod Method { get; }
        public Uri Uri { get; }
        public RequestKind Kind { get; }

        /// <summary>Completes "Segmind refused the request to ..." in messages.</summary>
        public string Action { get; }

        /// <summary>The option or parameter that supplied <see cref="Uri"/>, named in validation errors.</summary>
        public string UriField { get; set; } = "BaseUri";

        /// <summary>Called once per attempt: an HttpContent cannot be sent twice.</summary>
        public Func<HttpContent>? Content { get; set; }

        public TimeSpan Timeout { get; set; }

        /// <summary>The clock <see cref="Timeout"/> is measured on (the client's <see cref="SegmindClientOptions.TimeProvider"/>).</summary>
        public TimeProvider? Time { get; set; }

        /// <summary>The job this call concerns, for messages and exceptions.</summary>
        public string? RequestId { get; set; }

        /// <summary>
        /// Called once per attempt with the request slot in hand, right before the request goes on the wire; what it
        /// returns is disposed when the attempt is over. Throwing from it sends nothing.
        /// </summary>
        public Func<IDisposable?>? BeginSending { get; set; }
    }

    /// <summary>A whole answer read into memory (capped).</summary>
    internal sealed class ApiResponse
    {
        public ApiResponse(int statusCode, string? reason, HttpResponseHeaders headers, string? mediaType, byte[] body)
        {
            StatusCode = statusCode;
            Reason = reason;
            Headers = headers;
            MediaType = mediaType;
            Body = body;
        }

        public int StatusCode { get; }
        public string? Reason { get; }
        public HttpResponseHeaders Headers { get; }
        public string? MediaType { get; }
        public byte[] Body { get; }

        /// <summary>A header's first value, cleaned of the key once the answer has been <see cref="Redacted"/>.</summary>
        public string? Header(string name)
        {
            var value = Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;
            return _redactor is null ? value : _redactor.Clean(value);
        }

        private KeyRedactor? _redactor;

        /// <summary>The same answer with its reason phrase, headers and body cleaned of the key, before anything reads them.</summary>
        public ApiResponse Redacted(KeyRedactor redactor) =>
            new ApiResponse(StatusCode, redactor.Clean(Reason), Headers, MediaType, redactor.Clean(Body)) { _redactor = redactor, OutputHeldBack = OutputHeldBack };

        /// <summary>The body is a result's skeleton: its base64 output was too large to hold and was left out.</summary>
        public bool OutputHeldBack { get; set; }
    }

    /// <summary>The request failed below HTTP: no answer arrived. Converted by the caller according to whether repeating is safe.</summary>
    internal sealed class TransportFailureException : Exception
    {
        public TransportFailureException(string message, bool provablyNotSent, bool timedOut, Exception? inner)
            : base(message, inner)
        {
            ProvablyNotSent = provablyNotSent;
            TimedOut = timedOut;
        }

        /// <summary>The connection was refused or the host unknown: not one byte of the request left this machine.</summary>
        public bool ProvablyNotSent { get; }

        public bool TimedOut { get; }
    }

    /// <summary>
    /// Sends one API request through the request gate, with the key header, a per-request deadline and the
    /// shared HttpClient; reports transport failures as <see cref="TransportFailureException"/>.
    /// </summary>
    internal static class ApiTransport
    {
        public const int BufferSize = 81920;

        public static async Task<T> SendAsync<T>(
            ApiCall call,
            ApiKey key,
            IRequestGate gate,
            Func<HttpResponseMessage, CancellationToken, Task<T>> handle,
            CancellationToken cancellationToken,
            Action<int?, string?, TimeSpan>? exchanged = null)
        {
            UriRules.EnsureKeyMayBeSentTo(call.Uri, call.UriField);
            var http = HttpClientCache.ForApi(call.Uri);

            using (await gate.EnterAsync(call.Kind, cancellationToken).ConfigureAwait(false))
            using (call.BeginSending?.Invoke())
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (ClockDeadline.CancelAfter(deadline, call.Timeout, call.Time))
            {
                // Tracing (status or failure, real time from send to headers); the key header is never part of it.
                var sent = exchanged == null ? null : System.Diagnostics.Stopwatch.StartNew();
                try
                {
                    using (var request = new HttpRequestMessage(call.Method, call.Uri))
                    {
                        request.Headers.TryAddWithoutValidation("x-api-key", key.Reveal());
                        request.Content = call.Content?.Invoke();
                        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false))
                        {
                            Observe(exchanged, (int)response.StatusCode, response.ReasonPhrase, sent);

                            // Some platforms ignore the token once the body is streaming; disposing the response unblocks the read.
                            using (deadline.Token.Register(state => ((HttpResponseMessage)state!).Dispose(), response))
                            {
                                return await handle(response, deadline.Token).ConfigureAwait(false);
                            }
                        }
                    }
                }
                catch (Exception error) when (IsTransportFailure(error))
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("The operation was canceled.", error, cancellationToken);
                    }

                    if (sent != null && sent.IsRunning)
                    {
                        exchanged!(null, deadline.IsCancellationRequested ? "no answer in time" : "no answer: " + error.GetType().Name, sent.Elapsed);
                    }

                    if (deadline.IsCancellationRequested)
                    {
                        throw new TransportFailureException(
                            $"No answer from {call.Uri.Host} within {ErrorMapper.Seconds(call.Timeout)}.",
                            provablyNotSent: false,
                            timedOut: true,
                            error);
                    }

                    var notSent = IsConnectFailure(error);
                    throw new TransportFailureException(
                        notSent ? $"Could not connect to {call.Uri.Host}:{call.Uri.Port}." : $"The connection to {call.Uri.Host} failed before an answer arrived.",
                        notSent,
                        timedOut: false,
                        error);
                }
            }
        }

        /// <summary>Reports the answer's headers once (stopping the watch, so a later failure is not reported again).</summary>
        private static void Observe(Action<int?, string?, TimeSpan>? exchanged, int status, string? reason, System.Diagnostics.Stopwatch? sent)
        {
            if (exchanged != null && sent != null)
            {
                sent.Stop();
                exchanged(status, reason, sent.Elapsed);
            }
        }

        /// <summary>Reads the body into memory, refusing more than <paramref name="maxBytes"/> (declared or actual).</summary>
        public static async Task<ApiResponse> ReadAsync(HttpResponseMessage response, long maxBytes, CancellationToken cancellationToken)
        {
            var status = (int)response.StatusCode;
            var success = status >= 200 && status <= 299;

            // An error page is only read for its message: its start is enough, and size is no reason to fail.
            var limit = success ? maxBytes : Math.Min(maxBytes, 64 * 1024);
            var body = await ReadCappedAsync(response.Content, limit, truncate: !success, cancellationToken).ConfigureAwait(false);
            return new ApiResponse(status, response.ReasonPhrase, response.Headers, response.Content?.Headers.ContentType?.MediaType, body);
        }

        public static async Task<byte[]> ReadCappedAsync(HttpContent? content, long maxBytes, bool truncate, CancellationToken cancellationToken)
        {
            if (content is null)
            {
                return Array.Empty<byte>();
            }

            var declared = content.Headers.ContentLength;
            if (declared.HasValue && declared.Value > maxBytes && !truncate)
            {
                throw TooLarge(declared.Value, maxBytes);
            }

            var initial = declared.HasValue && declared.Value <= maxBytes ? (int)declared.Value : 0;
            using (var stream = await content.ReadAsStreamAsync().ConfigureAwait(false))
            using (var memory = new MemoryStream(initial))
            {
                var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
                try
                {
                    while (true)
                    {
                        var read = await stream.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }

                        if (memory.Length + read > maxBytes)
                        {
                            if (!truncate)
                            {
                                throw TooLarge(memory.Length + read, maxBytes);
                            }

                            memory.Write(buffer, 0, (int)(maxBytes - memory.Length));
                            break;
                        }

                        memory.Write(buffer, 0, read);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }

                return memory.ToArray();
            }
        }

        public static SegmindProtocolException TooLarge(long size, long maxBytes) =>
            new SegmindProtocolException($"The server's response is too large: more than {maxBytes} bytes ({size} seen); raise MaxResponseBytes if this is expected.");

        public static bool IsTransportFailure(Exception error) =>
            error is HttpRequestException
            || error is IOException
            || error is OperationCanceledException
            || error is ObjectDisposedException
            || error is WebException
            || error is SocketException;

        /// <summary>
        /// Conservative: only a refused connection or an unknown host proves the request never left. A reset, a
        /// drop or a timeout may have happened after the server read it.
        /// </summary>
        public static bool IsConnectFailure(Exception error)
        {
            for (var current = error; current != null; current = current.InnerException)
            {
                if (current is SocketException socket)
                {
                    switch (socket.SocketErrorCode)
                    {
                        case SocketError.ConnectionRefused:
                        case SocketError.HostNotFound:
                        case SocketError.HostUnreachable:
                        case SocketError.NetworkUnreachable:
                        case SocketError.NoData:
                        case SocketError.TryAgain:
                        case SocketError.AddressNotAvailable:
                            return true;
                        default:
                            return false;
                    }
                }

                if (current is WebException web)
                {
                    if (web.Status == WebExceptionStatus.ConnectFailure || web.Status == WebExceptionStatus.NameResolutionFailure)
                    {
                        return true;
                    }
                }
            }

            return false;
        }
    }
}
