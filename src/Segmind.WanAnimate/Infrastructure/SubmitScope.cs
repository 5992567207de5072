using System;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client;

namespace Segmind.WanAnimate.Infrastructure
{
    /// <summary>
    /// One submit's view of a stop. A stop cancels the submit at once while it waits (for the gate, an upload or a
    /// retry delay), because then no POST is out and the row can honestly be journaled as not submitted. A POST
    /// already on the wire is not cancelled: its answer is awaited (bounded by the request timeout) so the request id
    /// reaches the journal instead of leaving the row unknown.
    /// </summary>
    internal sealed class SubmitScope : IDisposable
    {
        private static readonly AsyncLocal<SubmitScope?> CurrentScope = new AsyncLocal<SubmitScope?>();

        private readonly object _lock = new object();
        private readonly CancellationTokenSource _source = new CancellationTokenSource();
        private readonly CancellationTokenRegistration _registration;
        private bool _sending;
        private bool _stopRequested;

        private SubmitScope(CancellationToken stopping)
        {
            _registration = stopping.Register(state => ((SubmitScope)state!).OnStop(), this);
        }

        /// <summary>The scope of the submit running on this logical flow, seen by <see cref="StopAwareGate"/>.</summary>
        public static SubmitScope? Current => CurrentScope.Value;

        /// <summary>Pass this to the submit: it is cancelled by a stop only while no POST is on the wire.</summary>
        public CancellationToken Token => _source.Token;

        /// <summary>True while a POST is out and unanswered.</summary>
        public bool Sending
        {
            get
            {
                lock (_lock)
                {
                    return _sending;
                }
            }
        }

        /// <summary>Starts a scope and makes it current for the calling flow (restored when that async method returns).</summary>
        public static SubmitScope Begin(CancellationToken stopping)
        {
            var scope = new SubmitScope(stopping);
            CurrentScope.Value = scope;
            return scope;
        }

        /// <summary>Called with the submit slot in hand: false when a stop came first, so the POST must not be sent.</summary>
        public bool TryBeginSending()
        {
            lock (_lock)
            {
                if (_stopRequested)
                {
                    return false;
                }

                _sending = true;
                return true;
            }
        }

        /// <summary>The POST was answered (or failed): a stop that came meanwhile now cancels whatever follows.</summary>
        public void EndSending()
        {
            bool cancel;
            lock (_lock)
            {
                _sending = false;
                cancel = _stopRequested;
            }

            if (cancel)
            {
                Cancel();
            }
        }

        public void Dispose()
        {
            _registration.Dispose();
            if (CurrentScope.Value == this)
            {
                CurrentScope.Value = null;
            }

            _source.Dispose();
        }

        private void OnStop()
        {
            bool cancel;
            lock (_lock)
            {
                _stopRequested = true;
                cancel = !_sending;
            }

            if (cancel)
            {
                Cancel();
            }
        }

        private void Cancel()
        {
            try
            {
                _source.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>
    /// Wraps the account's shared gate for one cmdlet's client: a submit entering the gate marks its
    /// <see cref="SubmitScope"/> as sending until the slot is released (the answer has been read). Every other request
    /// passes straight through.
    /// </summary>
    internal sealed class StopAwareGate : IRequestGate
    {
        private readonly IRequestGate _inner;

        public StopAwareGate(IRequestGate inner)
        {
            _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        }

        public ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken)
        {
            var scope = SubmitScope.Current;
            return kind == RequestKind.Submit && scope != null
                ? new ValueTask<IDisposable>(EnterSubmitAsync(scope, cancellationToken))
                : _inner.EnterAsync(kind, cancellationToken);
        }

        public void ReportRateLimited(TimeSpan? retryAfter) => _inner.ReportRateLimited(retryAfter);

        private async Task<IDisposable> EnterSubmitAsync(SubmitScope scope, CancellationToken cancellationToken)
        {
            var slot = await _inner.EnterAsync(RequestKind.Submit, cancellationToken).ConfigureAwait(false);
            if (!scope.TryBeginSending())
            {
                slot.Dispose();
                throw new OperationCanceledException("Stopped before the submit was sent.", cancellationToken);
            }

            return new SendingSlot(slot, scope);
        }

        private sealed class SendingSlot : IDisposable
        {
            private IDisposable? _slot;
            private readonly SubmitScope _scope;

            public SendingSlot(IDisposable slot, SubmitScope scope)
            {
                _slot = slot;
                _scope = scope;
            }

            public void Dispose()
            {
                var slot = Interlocked.Exchange(ref _slot, null);
                if (slot == null)
                {
                    return;
                }

                slot.Dispose();
                _scope.EndSending();
            }
        }
    }
}
