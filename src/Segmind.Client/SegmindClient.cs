using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// Speaks Segmind's serverless API: v2 submit/status/result, v1 blocking run, upload-asset, credits and
    /// output download. Thread-safe; shares one HttpClient per process and base address.
    /// </summary>
    public sealed class SegmindClient : IDisposable
    {
        public SegmindClient(SegmindClientOptions options) => throw new NotImplementedException();

        public SegmindClientOptions Options => throw new NotImplementedException();

        /// <summary>Validates, uploads local files, and POSTs <c>/v2/wan-animate</c> once. Never re-sent after it may have reached the server.</summary>
        public Task<SubmittedJob> SubmitAsync(WanAnimateRequest request, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>POST <c>/v2/{slug}</c> with the parameters as JSON.</summary>
        public Task<SubmittedJob> SubmitAsync(string slug, IDictionary<string, object?> parameters, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>One status poll. FAILED is returned as data.</summary>
        public Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>The job's result. FAILED (HTTP 422) is returned as data; 404 throws <see cref="SegmindNotFoundException"/>.</summary>
        public Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>
        /// Polls on the back-off schedule until COMPLETED (returns the result), FAILED (throws
        /// <see cref="SegmindJobFailedException"/>) or the timeout (throws <see cref="SegmindWaitTimeoutException"/>).
        /// </summary>
        public Task<JobResult> WaitAsync(JobReference job, TimeSpan? timeout = null, IProgress<JobStatus>? progress = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>The blocking <c>POST /v1/wan-animate</c>; the video (or decoded base64) is streamed to <paramref name="destinationPath"/>.</summary>
        public Task<SyncRunResult> RunAsync(WanAnimateRequest request, string destinationPath, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>Uploads local files through upload-asset and returns their hosted URLs, in order.</summary>
        public Task<IReadOnlyList<Uri>> UploadFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        public Task<CreditBalance> GetCreditsAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

        /// <summary>
        /// Writes the result's output (URL streamed, or base64 decoded) to <paramref name="destinationPath"/> through a
        /// temporary file and a rename; constant memory. A complete existing file is kept unless <paramref name="overwrite"/>.
        /// </summary>
        public Task<DownloadedOutput> DownloadOutputAsync(JobResult result, string destinationPath, bool overwrite = false, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        public void Dispose() { }
    }
}
