namespace Segmind.Client
{
    /// <summary>How a <see cref="JobPoller"/> spreads its polls.</summary>
    public sealed class JobPollerOptions
    {
        /// <summary>
        /// Polls this poller has started and not finished, at most (default 8). Jobs due beyond it wait in the poller's
        /// queue, not as requests; the account's <see cref="RequestGate"/> limits what actually reaches the server.
        /// </summary>
        public int MaxConcurrentPolls { get; set; } = 8;

        /// <summary>
        /// The first poll of a newly tracked job lands at a random point between this fraction and 1 + this fraction of
        /// the schedule's first delay (default 0.5: between half and one and a half times it), so jobs tracked
        /// together (a re-run that resumes 1,000 request ids) do not all poll at the same instant.
        /// </summary>
        public double FirstPollSpread { get; set; } = 0.5;

        /// <summary>Seed of the jitter; null picks one. Set it to make a simulation repeatable.</summary>
        public int? RandomSeed { get; set; }

        internal void Validate()
        {
            if (MaxConcurrentPolls < 1)
            {
                throw new SegmindValidationException("MaxConcurrentPolls", "At least one poll must be allowed at a time.");
            }

            if (double.IsNaN(FirstPollSpread) || FirstPollSpread < 0 || FirstPollSpread >= 1)
            {
                throw new SegmindValidationException("FirstPollSpread", "The first-poll spread must be in [0, 1).");
            }
        }
    }
}
