using System;

namespace Segmind.Client
{
    /// <summary>
    /// Base of every error the core raises. Each subclass is one meaning; <see cref="ErrorId"/> is stable
    /// (cmdlets publish it as <c>WanAnimate.&lt;ErrorId&gt;</c>). No instance ever carries the API key.
    /// </summary>
    public abstract class SegmindException : Exception
    {
        protected SegmindException(string message, int? statusCode = null, string? requestId = null, string? serverMessage = null, Exception? inner = null)
            : base(message, inner)
        {
            StatusCode = statusCode;
            RequestId = requestId;
            ServerMessage = serverMessage;
        }

        /// <summary>HTTP status of the answer that caused this error, when there was one.</summary>
        public int? StatusCode { get; }

        /// <summary>The Segmind request id the error concerns, when known.</summary>
        public string? RequestId { get; }

        /// <summary>The server's own words (its <c>error</c> or <c>detail</c> field, or a trimmed text body).</summary>
        public string? ServerMessage { get; }

        /// <summary>Stable identifier of this error's meaning, e.g. <c>RateLimited</c>.</summary>
        public abstract string ErrorId { get; }

        /// <summary>True when the same request may succeed if repeated later (retryable for GETs).</summary>
        public virtual bool IsTransient => false;

        /// <summary>The server's own wait hint (Retry-After or its reset time), already clamped; used by the retry loop.</summary>
        internal TimeSpan? RetryAfterHint { get; set; }

        /// <summary>True only when the request provably never reached the server (refused connection, unknown host): a submit may then be repeated.</summary>
        internal bool ProvablyNotSent { get; set; }
    }

    /// <summary>Input refused before any request was sent. <see cref="Field"/> names the offending field.</summary>
    public sealed class SegmindValidationException : SegmindException
    {
        public SegmindValidationException(string field, string message)
            : base(message)
        {
            Field = field;
        }

        public string Field { get; }

        public override string ErrorId => "InvalidArgument";
    }

    /// <summary>401: the API key is missing or not valid.</summary>
    public sealed class SegmindAuthenticationException : SegmindException
    {
        public SegmindAuthenticationException(string message, int? statusCode = 401, string? requestId = null, string? serverMessage = null)
            : base(message, statusCode, requestId, serverMessage) { }

        public override string ErrorId => "Unauthorized";
    }

    /// <summary>403: the key is valid but not allowed to do this.</summary>
    public sealed class SegmindPermissionException : SegmindException
    {
        public SegmindPermissionException(string message, int? statusCode = 403, string? requestId = null, string? serverMessage = null)
            : base(message, statusCode, requestId, serverMessage) { }

        public override string ErrorId => "Forbidden";
    }

    /// <summary>404: the request id is unknown or its result expired (results are kept for 1 hour).</summary>
    public sealed class SegmindNotFoundException : SegmindException
    {
        public SegmindNotFoundException(string message, int? statusCode = 404, string? requestId = null, string? serverMessage = null)
            : base(message, statusCode, requestId, serverMessage) { }

        public override string ErrorId => "NotFound";
    }

    /// <summary>406 (credit flavour): the account has too few credits for this job.</summary>
    public sealed class SegmindInsufficientCreditsException : SegmindException
    {
        public SegmindInsufficientCreditsException(string message, int? statusCode = 406, string? requestId = null, string? serverMessage = null)
            : base(message, statusCode, requestId, serverMessage) { }

        public override string ErrorId => "InsufficientCredits";
    }

    /// <summary>400, 405, 406 (content type), 410 and other refusals of the request itself; the server's message says why.</summary>
    public sealed class SegmindBadRequestException : SegmindException
    {
        public SegmindBadRequestException(string message, int? statusCode = 400, string? requestId = null, string? serverMessage = null)
            : base(message, statusCode, requestId, serverMessage) { }

        public override string ErrorId => "BadRequest";
    }

    /// <summary>429: too many requests. <see cref="RetryAfter"/> is the server's hint, when it gave one.</summary>
    public sealed class SegmindRateLimitedException : SegmindException
    {
        public SegmindRateLimitedException(string message, TimeSpan? retryAfter, int? statusCode = 429, string? requestId = null, string? serverMessage = null)
            : base(message, statusCode, requestId, serverMessage)
        {
            RetryAfter = retryAfter;
        }

        public TimeSpan? RetryAfter { get; }

        public override string ErrorId => "RateLimited";

        public override bool IsTransient => true;
    }

    /// <summary>5xx, 408 or a transport failure on a request that is safe to repeat.</summary>
    public sealed class SegmindServerException : SegmindException
    {
        public SegmindServerException(string message, int? statusCode = null, string? requestId = null, string? serverMessage = null, Exception? inner = null)
            : base(message, statusCode, requestId, serverMessage, inner) { }

        public override string ErrorId => "ServerError";

        public override bool IsTransient => true;
    }

    /// <summary>The server answered something this client cannot use: malformed, missing fields, or larger than the cap.</summary>
    public sealed class SegmindProtocolException : SegmindException
    {
        public SegmindProtocolException(string message, int? statusCode = null, string? requestId = null, string? serverMessage = null, Exception? inner = null)
            : base(message, statusCode, requestId, serverMessage, inner) { }

        public override string ErrorId => "ProtocolError";
    }

    /// <summary>The job ended FAILED (served as HTTP 422); <see cref="SegmindException.ServerMessage"/> has the detail.</summary>
    public sealed class SegmindJobFailedException : SegmindException
    {
        public SegmindJobFailedException(string message, string requestId, string? serverMessage, int? statusCode = 422)
            : base(message, statusCode, requestId, serverMessage) { }

        public override string ErrorId => "JobFailed";
    }

    /// <summary>A wait reached its deadline. The job goes on at Segmind: wait again with <see cref="SegmindException.RequestId"/>.</summary>
    public sealed class SegmindWaitTimeoutException : SegmindException
    {
        public SegmindWaitTimeoutException(string message, string requestId, string? lastStatus)
            : base(message, null, requestId)
        {
            LastStatus = lastStatus;
        }

        public string? LastStatus { get; }

        public override string ErrorId => "WaitTimeout";
    }

    /// <summary>
    /// A submit was sent but its answer was lost (timeout, reset, 5xx after sending). The job may exist and be
    /// charged; it is never re-sent automatically. Check credits or the account's history before submitting again.
    /// </summary>
    public sealed class SegmindSubmitOutcomeUnknownException : SegmindException
    {
        public SegmindSubmitOutcomeUnknownException(string message, int? statusCode = null, string? serverMessage = null, Exception? inner = null)
            : base(message, statusCode, null, serverMessage, inner) { }

        /// <summary>For a blocking run whose answer named its request id before the output was lost.</summary>
        public SegmindSubmitOutcomeUnknownException(string message, int? statusCode, string? requestId, string? serverMessage, Exception? inner)
            : base(message, statusCode, requestId, serverMessage, inner) { }

        public override string ErrorId => "SubmitOutcomeUnknown";
    }

    /// <summary>
    /// Not sent: an earlier answer of this batch (<see cref="Cause"/>: a 401/403, or a 406 for submits) means this
    /// request would be refused the same way. See <see cref="BatchStop"/>.
    /// </summary>
    public sealed class SegmindBatchStoppedException : SegmindException
    {
        public SegmindBatchStoppedException(SegmindException cause)
            : base(
                "Not sent: the batch stopped after an earlier answer. " + (cause ?? throw new ArgumentNullException(nameof(cause))).Message,
                cause.StatusCode,
                null,
                cause.ServerMessage,
                cause)
        {
            Cause = cause;
        }

        /// <summary>The answer that stopped the batch.</summary>
        public SegmindException Cause { get; }

        /// <summary>The cause's meaning: a request held back by a wrong key is published as that key's error.</summary>
        public override string ErrorId => Cause.ErrorId;
    }
}
