using System;

namespace Segmind.Client
{
    /// <summary>
    /// A remote journal (an Azure table) could not be read or written: unreachable, a server error that outlasted the
    /// retries, or an answer that cannot be used. Nothing is submitted for a row whose claim could not be written.
    /// Messages never contain the credential.
    /// </summary>
    public class SegmindJournalException : SegmindException
    {
        public SegmindJournalException(string message, int? statusCode = null, string? serverMessage = null, Exception? inner = null)
            : base(message, statusCode, null, serverMessage, inner) { }

        /// <summary>The storage service's own error code (e.g. <c>TableNotFound</c>), when it sent one.</summary>
        public string? StorageErrorCode { get; internal set; }

        public override string ErrorId => "JournalError";
    }

    /// <summary>
    /// The remote journal refused the credential: wrong or expired, or without the rights the journal needs
    /// (read, add and update on the table). Raised before anything is submitted.
    /// </summary>
    public sealed class SegmindJournalAccessException : SegmindJournalException
    {
        public SegmindJournalAccessException(string message, int? statusCode = null, string? serverMessage = null)
            : base(message, statusCode, serverMessage) { }

        public override string ErrorId => "JournalAccessDenied";
    }

    /// <summary>
    /// Another run holds this journal row (it claimed it and is alive), or took it over from this run: this run
    /// must not send it. Nothing was sent.
    /// </summary>
    public sealed class SegmindRowClaimedException : SegmindJournalException
    {
        public SegmindRowClaimedException(string message)
            : base(message) { }

        public override string ErrorId => "RowClaimed";
    }
}
