using System;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    public enum RequestKind
    {
        Submit,
        Status,
        Result,
        SyncRun,
        Upload,
        Credits,
    }

    /// <summary>
    /// The client-side budget every API request passes through: one per account and base address, shared by
    /// submits and polls, so a batch slows down instead of failing rows on 429.
    /// </summary>
    public interface IRequestGate
    {
        /// <summary>Waits for a request slot; dispose the result when the response has been read.</summary>
        ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken);

        /// <summary>The server said 429: hold every request back for at least <paramref name="retryAfter"/> (or a back-off of the gate's own).</summary>
        void ReportRateLimited(TimeSpan? retryAfter);
    }

    /// <summary>A gate that never waits: for tests and callers that pace themselves.</summary>
    public sealed class UnlimitedRequestGate : IRequestGate
    {
        public static UnlimitedRequestGate Instance { get; } = new UnlimitedRequestGate();

        private sealed class NoopSlot : IDisposable
        {
            public static readonly NoopSlot Instance = new NoopSlot();
            public void Dispose() { }
        }

        public ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return new ValueTask<IDisposable>(NoopSlot.Instance);
        }

        public void ReportRateLimited(TimeSpan? retryAfter) { }
    }
}
