using System;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// The batch-fatal rule: answers that mean every further request of the batch would be refused the same way stop
    /// the batch instead of being repeated row after row. Give one to <see cref="SegmindClientOptions.BatchStop"/> per
    /// batch (a cmdlet invocation, a script's run); the client checks it before and after waiting for the gate, so once
    /// it has stopped only the requests already on the wire (at most the throttle limit) are answered.
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><b>401 or 403</b> (<see cref="SegmindAuthenticationException"/>, <see cref="SegmindPermissionException"/>):
    /// a wrong or forbidden key. Nothing further is sent: every later request fails with
    /// <see cref="SegmindBatchStoppedException"/> carrying the first refusal.</item>
    /// <item><b>406 insufficient credits</b> (<see cref="SegmindInsufficientCreditsException"/>) on a submit: no further
    /// submit is sent (each would be refused), but status polls and result fetches go on, so every job already
    /// accepted is still collected.</item>
    /// </list>
    /// Thread-safe. The first refusal of each kind is kept; later ones change nothing.
    /// </remarks>
    public sealed class BatchStop
    {
        private readonly CancellationTokenSource _everything = new CancellationTokenSource();
        private SegmindException? _fatal;
        private SegmindInsufficientCreditsException? _credits;
        private int _heldBack;

        /// <summary>The 401/403 that stopped every request of the batch; null while none came.</summary>
        public SegmindException? Fatal => Volatile.Read(ref _fatal);

        /// <summary>The 406 that stopped submitting (polls and results go on); null while none came.</summary>
        public SegmindInsufficientCreditsException? Credits => Volatile.Read(ref _credits);

        /// <summary>Cancelled when a 401/403 stops the batch: link it to stop waiting work at once.</summary>
        public CancellationToken StoppedToken => _everything.Token;

        /// <summary>Requests not sent because of this stop.</summary>
        public int HeldBack => Volatile.Read(ref _heldBack);

        /// <summary>True when a request of this kind would be held back now.</summary>
        public bool Stops(RequestKind kind) =>
            Fatal != null || (Credits != null && IsSubmitLike(kind));

        /// <summary>Throws <see cref="SegmindBatchStoppedException"/> when a request of this kind must not be sent.</summary>
        public void ThrowIfStopped(RequestKind kind)
        {
            var fatal = Fatal;
            var cause = fatal ?? (IsSubmitLike(kind) ? (SegmindException?)Credits : null);
            if (cause is null)
            {
                return;
            }

            Interlocked.Increment(ref _heldBack);
            throw new SegmindBatchStoppedException(cause);
        }

        /// <summary>Looks at a refusal the client received for a request of <paramref name="kind"/>; stops the batch when it is batch-fatal.</summary>
        public void Observe(SegmindException error, RequestKind kind)
        {
            if (error is SegmindAuthenticationException || error is SegmindPermissionException)
            {
                if (Interlocked.CompareExchange(ref _fatal, error, null) is null)
                {
                    try
                    {
                        _everything.Cancel();
                    }
                    catch (AggregateException)
                    {
                        // A registered callback failed; the stop itself stands.
                    }
                }
            }
            else if (error is SegmindInsufficientCreditsException credits && IsSubmitLike(kind))
            {
                Interlocked.CompareExchange(ref _credits, credits, null);
            }
        }

        /// <summary>True for the answers that can stop a batch (401, 403, 406): the client observes them before it lets go of its gate slot.</summary>
        internal static bool IsBatchFatal(int statusCode) => statusCode == 401 || statusCode == 403 || statusCode == 406;

        /// <summary>A gate that checks this stop after the wait, so a request queued before the stop is not sent after it.</summary>
        internal IRequestGate Guard(IRequestGate inner) => new GuardedGate(inner, this);

        private static bool IsSubmitLike(RequestKind kind) => kind == RequestKind.Submit || kind == RequestKind.SyncRun || kind == RequestKind.Upload;

        private sealed class GuardedGate : IRequestGate
        {
            private readonly IRequestGate _inner;
            private readonly BatchStop _stop;

            public GuardedGate(IRequestGate inner, BatchStop stop)
            {
                _inner = inner;
                _stop = stop;
            }

            public async ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken)
            {
                _stop.ThrowIfStopped(kind);
                var slot = await _inner.EnterAsync(kind, cancellationToken).ConfigureAwait(false);
                try
                {
                    _stop.ThrowIfStopped(kind);
                }
                catch
                {
                    slot.Dispose();
                    throw;
                }

                return slot;
            }

            public void ReportRateLimited(TimeSpan? retryAfter) => _inner.ReportRateLimited(retryAfter);
        }
    }
}
