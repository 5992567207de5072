using System;
using System.Globalization;

namespace Segmind.Client.IO
{
    /// <summary>
    /// The bounds of one output download besides its idle timer: a size cap, a total deadline and a minimum average
    /// throughput (checked once a grace period has passed), so a body that drips a byte at a time, or never ends,
    /// fails in bounded time instead of re-arming the idle timer for ever.
    /// </summary>
    internal sealed class DownloadBudget
    {
        private readonly Func<TimeSpan> _clock;
        private readonly TimeSpan _start;

        public DownloadBudget(Func<TimeSpan> clock, long maxBytes, TimeSpan total, TimeSpan grace, long minBytesPerSecond, string requestId)
        {
            _clock = clock;
            _start = clock();
            MaxBytes = maxBytes;
            Total = total;
            Grace = grace;
            MinBytesPerSecond = minBytesPerSecond;
            RequestId = requestId;
        }

        public long MaxBytes { get; }

        public TimeSpan Total { get; }

        public TimeSpan Grace { get; }

        public long MinBytesPerSecond { get; }

        public string RequestId { get; }

        /// <summary>Refuses an answer whose declared length is already over the cap, before a byte is written.</summary>
        public void CheckDeclared(long? declared)
        {
            if (declared.HasValue && MaxBytes > 0 && declared.Value > MaxBytes)
            {
                throw TooLarge(declared.Value);
            }
        }

        /// <summary>Called after every read with the bytes received so far.</summary>
        public void Check(long received)
        {
            if (MaxBytes > 0 && received > MaxBytes)
            {
                throw TooLarge(received);
            }

            var elapsed = _clock() - _start;
            if (Total > TimeSpan.Zero && elapsed > Total)
            {
                throw new SegmindServerException(
                    $"The output download of job '{RequestId}' took longer than its limit of {SegmindClient.Describe(Total)} ({received} bytes received); the partial file was removed.",
                    requestId: RequestId);
            }

            if (MinBytesPerSecond > 0 && elapsed > Grace && received < MinBytesPerSecond * elapsed.TotalSeconds)
            {
                throw new SegmindServerException(
                    $"The output download of job '{RequestId}' is too slow: {received} bytes in {SegmindClient.Describe(elapsed)}, below the minimum of {Rate(MinBytesPerSecond)}; the partial file was removed.",
                    requestId: RequestId);
            }
        }

        private SegmindProtocolException TooLarge(long size) =>
            new SegmindProtocolException(
                $"The output of job '{RequestId}' is larger than the download cap of {MaxBytes} bytes ({size} seen); nothing was kept. "
                + $"Real outputs are far smaller; if this one is expected, raise the cap with $env:{SegmindClientOptions.MaxOutputBytesEnvironmentVariable} (in bytes).",
                requestId: RequestId);

        private static string Rate(long bytesPerSecond) =>
            (bytesPerSecond / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB/s";
    }
}
