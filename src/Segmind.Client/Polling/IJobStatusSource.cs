using System;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// Where <see cref="JobPoller"/> reads job states from. <see cref="SegmindClientJobStatusSource"/> is the real one
    /// (through the client, its retries and its request gate); tests substitute their own.
    /// </summary>
    public interface IJobStatusSource
    {
        /// <summary>One status poll. FAILED is returned as data; 404 throws <see cref="SegmindNotFoundException"/>.</summary>
        Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken);

        /// <summary>The job's result. FAILED is returned as data; 404 throws <see cref="SegmindNotFoundException"/>.</summary>
        Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken);
    }

    /// <summary>Reads job states through a <see cref="SegmindClient"/>, so every poll passes its retries and request gate.</summary>
    public sealed class SegmindClientJobStatusSource : IJobStatusSource
    {
        private readonly SegmindClient _client;

        public SegmindClientJobStatusSource(SegmindClient client)
        {
            _client = client ?? throw new ArgumentNullException(nameof(client));
        }

        internal SegmindClient Client => _client;

        public Task<JobStatus> GetStatusAsync(JobReference job, CancellationToken cancellationToken) => _client.GetStatusAsync(job, cancellationToken);

        public Task<JobResult> GetResultAsync(JobReference job, CancellationToken cancellationToken) => _client.GetResultAsync(job, cancellationToken);
    }
}
