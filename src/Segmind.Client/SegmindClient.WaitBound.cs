using System;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client.Http;

namespace Segmind.Client
{
    /// <summary>
    /// A wait's timeout bounds the whole wait, including a status request still in flight at the deadline (a server
    /// that drips its answer a byte at a time would otherwise hold the wait for the request timeout and its retries).
    /// </summary>
    public sealed partial class SegmindClient
    {
        /// <summary>How long after its deadline a wait's last poll may still finish on its own before it is cut off.</summary>
        internal static readonly TimeSpan WaitOverrun = TimeSpan.FromSeconds(5);

        private Task<JobResult> BoundedWait(
            JobReference job,
            TimeSpan limit,
            Func<CancellationToken, IProgress<JobStatus>?, Task<JobResult>> track,
            IProgress<JobStatus>? progress,
            CancellationToken cancellationToken)
        {
            if (limit == Timeout.InfiniteTimeSpan || limit.Ticks > TimeSpan.FromDays(1).Ticks)
            {
                return track(cancellationToken, progress);
            }

            return BoundedWaitAsync(job, limit, track, progress, cancellationToken);
        }

        private async Task<JobResult> BoundedWaitAsync(
            JobReference job,
            TimeSpan limit,
            Func<CancellationToken, IProgress<JobStatus>?, Task<JobResult>> track,
            IProgress<JobStatus>? progress,
            CancellationToken cancellationToken)
        {
            var seen = new LastStatus(progress);
            // The bound runs on the client's time provider, like the poller's own deadline.
            using (var timer = _time.CreateCancellationTokenSource(limit + WaitOverrun))
            using (var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token))
            {
                try
                {
                    return await track(bound.Token, seen).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (bound.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new SegmindWaitTimeoutException(
                        $"Stopped waiting for job '{job.RequestId}' after {Describe(limit)} (last status {seen.Status ?? "unknown"}; a status request was still unanswered at the deadline); the job goes on at Segmind, so wait again with its request id (results are kept for 1 hour after submission).",
                        job.RequestId,
                        seen.Status,
                        "a status request was still unanswered at the deadline");
                }
            }
        }

        /// <summary>Remembers the last status read, for the timeout's message, and passes every read on.</summary>
        private sealed class LastStatus : IProgress<JobStatus>
        {
            private readonly IProgress<JobStatus>? _inner;
            private string? _status;

            public LastStatus(IProgress<JobStatus>? inner)
            {
                _inner = inner;
            }

            public string? Status => Volatile.Read(ref _status);

            public void Report(JobStatus value)
            {
                Volatile.Write(ref _status, value?.Status);
                _inner?.Report(value!);
            }
        }
    }
}
