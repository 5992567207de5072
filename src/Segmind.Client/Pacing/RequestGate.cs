using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client
{
    /// <summary>
    /// Paces the requests of one account against one API: at most <see cref="RequestGateOptions.ThrottleLimit"/> in
    /// flight, at most <see cref="RequestGateOptions.RequestsPerMinute"/> started a minute (a token bucket), and an
    /// adaptive slow-down when the server answers 429. Thread-safe; every waiter is served in order within its class.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>A 429 pauses; only a budget lowers the rate.</b> <see cref="ReportRateLimited"/> holds back every new request
    /// of the account until the server's <c>Retry-After</c> / <c>x-rate-limit-reset-at-utc</c> (capped at 10 minutes), or
    /// the gate's own back-off when the server gives no hint (2 s doubling to 60 s, reset after a run of successes).
    /// Reports that arrive while a pause is running belong to the same burst (requests that were in flight together)
    /// and only extend it. One 429 changes nothing else: a <c>Retry-After: 1</c> is a one-second pause, not a budget.
    /// </para>
    /// <para>
    /// The rate is cut only when 429s persist at the current rate: a second burst within a minute at a high share,
    /// three bursts in a row of requests in flight refused together (sending into a full window), or any 429 once the
    /// rate has climbed above a budget learned earlier. The cut is to 95 % of what the server <i>accepted</i> in a
    /// minute (answers minus 429s, the best minute of the last two after the previous cut): that count is the budget
    /// as the server enforces it, so one cut lands just under it instead of halving blindly. For a minute after a cut,
    /// 429s only pause. The configured rate (<see cref="RequestGateOptions.RequestsPerMinute"/>) is
    /// a ceiling the gate never exceeds. A cut is checked: when 429s keep arriving at the same share after it (random
    /// refusals, another client of the account), it did not help, so the previous rate comes back at once and no cut
    /// is made for 5 minutes; pauses still honour every 429.
    /// </para>
    /// <para>
    /// <b>Recovery.</b> After a minute without a 429, while requests are waiting for the rate, a cut rate climbs ×1.2 every 10 s up to the ceiling (from half
    /// the rate, back in 40 s more). Past a learned budget it first probes gently (×1.05 every 10 s for 30 s), so a
    /// real budget is crossed by a little and the single 429 that follows (above the learned budget) cuts at once
    /// (each such confirmation doubles the quiet time before the next probe, up to 8 minutes); the rate climbs only
    /// while requests wait for it;
    /// a budget that has grown lets the probe through and the climb speeds up again.
    /// </para>
    /// <para>
    /// <b>Who goes first.</b> Waiters are served first come, first served within three classes: result fetches
    /// (<see cref="RequestKind.Result"/>: the job is done and its result expires an hour later), then status polls and
    /// credit checks, then submits, uploads and blocking runs. When both polls and submits are waiting, every third
    /// request goes to a submit: a job costs at least three requests (submit, the status that says COMPLETED, the
    /// result), so a one-in-three share lets new jobs start about as fast as finished ones can be collected. Neither
    /// side starves; polls simply become less frequent when the budget is tight, which the poller tolerates.
    /// </para>
    /// </remarks>
    public sealed class RequestGate : IRequestGate, IDisposable
    {
        /// <summary>Requests that must end without a 429 before the gate's own back-off starts again from 2 s.</summary>
        public const int RecoveryRun = 10;

        internal static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(2);
        internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

        /// <summary>A server hint longer than this is capped: a bogus date must not park a batch for hours.</summary>
        internal static readonly TimeSpan MaxServerPause = TimeSpan.FromMinutes(10);

        private const int PollsPerSubmit = 2;
        private const double TokenEpsilon = 1e-9;

        private readonly object _lock = new object();
        private readonly RateLearner _learner = new RateLearner();
        private readonly TimeProvider _clock;
        private readonly ClockTimer _timer;

        private readonly LinkedList<Waiter> _results = new LinkedList<Waiter>();
        private readonly LinkedList<Waiter> _polls = new LinkedList<Waiter>();
        private readonly LinkedList<Waiter> _submits = new LinkedList<Waiter>();
        private int _pollStreak;

        private RequestGateOptions _options;
        private double? _effectiveRpm;
        private double _tokens;
        private DateTimeOffset _lastRefill;
        private DateTimeOffset _pausedUntil;
        private DateTimeOffset? _timerDue;
        private TimeSpan _nextOwnBackoff = InitialBackoff;
        private int _inFlight;
        private int _successRun;
        private long _granted;
        private long _rateLimitedCount;
        private bool _disposed;

        /// <summary>A gate with these options (null: unlimited rate, the default in-flight limit).</summary>
        public RequestGate(RequestGateOptions? options = null)
            : this(options, TimeProvider.System)
        {
        }

        /// <summary>A gate that measures time on <paramref name="clock"/> (a scaled clock for dry runs, a fake one in tests).</summary>
        public RequestGate(RequestGateOptions? options, TimeProvider clock)
        {
            _clock = clock ?? throw new ArgumentNullException(nameof(clock));
            _options = (options ?? new RequestGateOptions()).Clone();
            _options.Validate();
            _effectiveRpm = _options.LimitOrNull;
            _lastRefill = clock.GetUtcNow();
            _tokens = _effectiveRpm is double rpm ? _options.BurstFor(rpm) : 0;
            _timer = new ClockTimer(clock, OnTimer);
        }

        /// <summary>A copy of the options in force.</summary>
        public RequestGateOptions Options
        {
            get
            {
                lock (_lock)
                {
                    return _options.Clone();
                }
            }
        }

        /// <summary>
        /// Changes the budget at once (waiters included). The adaptive rate restarts from the new configured rate.
        /// </summary>
        public void Reconfigure(RequestGateOptions options)
        {
            if (options is null)
            {
                throw new ArgumentNullException(nameof(options));
            }

            var copy = options.Clone();
            copy.Validate();
            lock (_lock)
            {
                var now = _clock.GetUtcNow();
                RefillLocked(now);
                var wasUnlimited = _effectiveRpm is null;
                _options = copy;
                _effectiveRpm = copy.LimitOrNull;
                if (_effectiveRpm is double rpm)
                {
                    // An unlimited gate kept no tokens: a new limit starts with a full burst, like a new gate.
                    _tokens = wasUnlimited ? copy.BurstFor(rpm) : Math.Min(_tokens, copy.BurstFor(rpm));
                    if (wasUnlimited && _lastRefill < now)
                    {
                        _lastRefill = now;
                    }
                }
            }

            Pump();
        }

        /// <inheritdoc />
        public ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Waiter waiter;
            lock (_lock)
            {
                ThrowIfDisposed();
                if (_results.Count == 0 && _polls.Count == 0 && _submits.Count == 0)
                {
                    var now = _clock.GetUtcNow();
                    if (CanGrantLocked(kind, now, out _))
                    {
                        return new ValueTask<IDisposable>(GrantLocked(kind, now));
                    }
                }

                waiter = new Waiter(kind);
                waiter.Node = QueueFor(kind).AddLast(waiter);
            }

            if (cancellationToken.CanBeCanceled)
            {
                var registration = cancellationToken.Register(() => Cancel(waiter, cancellationToken));
                bool stillWaiting;
                lock (_lock)
                {
                    stillWaiting = waiter.Node != null;
                    if (stillWaiting)
                    {
                        waiter.Registration = registration;
                    }
                }

                if (!stillWaiting)
                {
                    registration.Dispose();
                }
            }

            Pump();
            return new ValueTask<IDisposable>(waiter.Completion.Task);
        }

        /// <inheritdoc />
        public void ReportRateLimited(TimeSpan? retryAfter)
        {
            lock (_lock)
            {
                var now = _clock.GetUtcNow();
                _rateLimitedCount++;
                _successRun = 0;
                var newEpisode = now >= _pausedUntil;

                TimeSpan pause;
                if (retryAfter is TimeSpan hint && hint > TimeSpan.Zero)
                {
                    pause = hint < MaxServerPause ? hint : MaxServerPause;
                }
                else
                {
                    pause = _nextOwnBackoff;
                    if (newEpisode)
                    {
                        var doubled = TimeSpan.FromTicks(_nextOwnBackoff.Ticks * 2);
                        _nextOwnBackoff = doubled < MaxBackoff ? doubled : MaxBackoff;
                    }
                }

                var until = now + pause;
                if (until > _pausedUntil)
                {
                    _pausedUntil = until;
                }

                RefillLocked(now);
                var before = _effectiveRpm;
                _effectiveRpm = _learner.OnRateLimited(now, newEpisode, before, _options.LimitOrNull);
                if (_effectiveRpm is double rate && before != rate)
                {
                    // One token at the end of the pause lets the refused request go first; the rest follow at the new rate.
                    _tokens = before is null ? 1 : Math.Min(_tokens, 1);
                    _lastRefill = _pausedUntil > now ? _pausedUntil : now;
                }
            }

            Pump();
        }

        /// <summary>A snapshot for diagnostics (Verbose lines, progress).</summary>
        public RequestGateStatus GetStatus()
        {
            lock (_lock)
            {
                var now = _clock.GetUtcNow();
                return new RequestGateStatus(
                    _options.ThrottleLimit,
                    _inFlight,
                    _results.Count + _polls.Count + _submits.Count,
                    _options.LimitOrNull,
                    _effectiveRpm,
                    _pausedUntil > now ? _pausedUntil : (DateTimeOffset?)null,
                    _rateLimitedCount,
                    _granted);
            }
        }

        /// <summary>Requests a minute the server accepted when the gate last cut its rate: the budget as learned (null before any cut).</summary>
        public double? LearnedRequestsPerMinute
        {
            get
            {
                lock (_lock)
                {
                    return _learner.LearnedBudget;
                }
            }
        }

        /// <summary>The current effective rate a minute (null when unlimited); lower than configured when 429s persist.</summary>
        public double? EffectiveRequestsPerMinute
        {
            get
            {
                lock (_lock)
                {
                    return _effectiveRpm;
                }
            }
        }

        /// <summary>Until when new requests are held back after a 429, or null when they are not.</summary>
        public DateTimeOffset? PausedUntil
        {
            get
            {
                lock (_lock)
                {
                    return _pausedUntil > _clock.GetUtcNow() ? _pausedUntil : (DateTimeOffset?)null;
                }
            }
        }

        public override string ToString() => GetStatus().ToString();

        /// <summary>Stops the gate's timer and fails every waiter with <see cref="ObjectDisposedException"/>. Shared gates are never disposed.</summary>
        public void Dispose()
        {
            List<Waiter> abandoned;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                abandoned = new List<Waiter>(_results);
                abandoned.AddRange(_polls);
                abandoned.AddRange(_submits);
                _results.Clear();
                _polls.Clear();
                _submits.Clear();
                foreach (var waiter in abandoned)
                {
                    waiter.Node = null;
                }
            }

            _timer.Dispose();
            foreach (var waiter in abandoned)
            {
                waiter.Registration.Dispose();
                waiter.Completion.TrySetException(new ObjectDisposedException(nameof(RequestGate)));
            }
        }

        private void ThrowIfDisposed()
        {
            if (_disposed)
            {
                throw new ObjectDisposedException(nameof(RequestGate));
            }
        }

        private LinkedList<Waiter> QueueFor(RequestKind kind)
        {
            switch (kind)
            {
                case RequestKind.Result:
                    return _results;
                case RequestKind.Status:
                case RequestKind.Credits:
                    return _polls;
                default:
                    return _submits;
            }
        }

        private static bool HoldsSlot(RequestKind kind) => kind != RequestKind.SyncRun;

        /// <summary>Whether a request of this kind may start now; otherwise <paramref name="wakeAt"/> says when to look again (null: when a slot frees).</summary>
        private bool CanGrantLocked(RequestKind kind, DateTimeOffset now, out DateTimeOffset? wakeAt)
        {
            wakeAt = null;
            if (HoldsSlot(kind) && _inFlight >= _options.ThrottleLimit)
            {
                return false;
            }

            if (now < _pausedUntil)
            {
                wakeAt = _pausedUntil;
                return false;
            }

            if (_effectiveRpm is double rpm)
            {
                RefillLocked(now);
                if (_tokens < 1 - TokenEpsilon)
                {
                    var ticksPerToken = TimeSpan.TicksPerMinute / rpm;
                    var ticks = (long)Math.Ceiling((1 - _tokens) * ticksPerToken);
                    wakeAt = now + TimeSpan.FromTicks(Math.Max(1, ticks));
                    return false;
                }
            }

            return true;
        }

        private IDisposable GrantLocked(RequestKind kind, DateTimeOffset now)
        {
            if (_effectiveRpm.HasValue)
            {
                _tokens = Math.Max(0, _tokens - 1);
            }

            var holdsSlot = HoldsSlot(kind);
            if (holdsSlot)
            {
                _inFlight++;
            }

            _granted++;
            return new Slot(this, holdsSlot);
        }

        private void RefillLocked(DateTimeOffset now)
        {
            if (!(_effectiveRpm is double rpm))
            {
                _lastRefill = now;
                return;
            }

            if (now <= _lastRefill)
            {
                return;
            }

            var capacity = _options.BurstFor(rpm);
            var earned = (now - _lastRefill).Ticks * rpm / TimeSpan.TicksPerMinute;
            _tokens = Math.Min(capacity, _tokens + earned);
            _lastRefill = now;
        }

        private void Release(bool heldSlot)
        {
            lock (_lock)
            {
                if (heldSlot)
                {
                    _inFlight--;
                }

                var now = _clock.GetUtcNow();
                _learner.OnAnswer(now);
                _successRun++;
                if (_successRun >= RecoveryRun)
                {
                    _successRun = 0;
                    _nextOwnBackoff = InitialBackoff;
                }

                // The rate climbs only while requests wait for it: a quiet spell below the rate says nothing about
                // the server's budget, and climbing through it would meet the next busy spell with a storm of 429s.
                var before = _effectiveRpm;
                var busy = _results.Count + _polls.Count + _submits.Count > 0;
                var after = busy ? _learner.Recover(now, before, _options.LimitOrNull) : before;
                if (after != before)
                {
                    RefillLocked(now);
                    _effectiveRpm = after;
                    RefillLocked(now);
                }
            }

            Pump();
        }

        private void Cancel(Waiter waiter, CancellationToken cancellationToken)
        {
            bool removed;
            lock (_lock)
            {
                removed = waiter.Node != null;
                if (removed)
                {
                    waiter.Node!.List!.Remove(waiter.Node);
                    waiter.Node = null;
                }
            }

            if (removed)
            {
                waiter.Completion.TrySetCanceled(cancellationToken);

                // The head of a class may have gone: the next waiter could be grantable now.
                Pump();
            }
        }

        private void OnTimer()
        {
            lock (_lock)
            {
                _timerDue = null;
            }

            Pump();
        }

        /// <summary>Grants every waiter that may start now, in class order, and arms the timer for the next one.</summary>
        private void Pump()
        {
            List<KeyValuePair<Waiter, IDisposable>>? granted = null;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                while (true)
                {
                    var queue = PickQueueLocked();
                    if (queue is null)
                    {
                        break;
                    }

                    var waiter = queue.First!.Value;
                    var now = _clock.GetUtcNow();
                    if (!CanGrantLocked(waiter.Kind, now, out var wakeAt))
                    {
                        if (wakeAt is DateTimeOffset due)
                        {
                            ArmLocked(due, now);
                        }

                        break;
                    }

                    queue.RemoveFirst();
                    waiter.Node = null;
                    if (ReferenceEquals(queue, _submits))
                    {
                        _pollStreak = 0;
                    }
                    else if (_submits.Count > 0)
                    {
                        _pollStreak++;
                    }

                    granted ??= new List<KeyValuePair<Waiter, IDisposable>>();
                    granted.Add(new KeyValuePair<Waiter, IDisposable>(waiter, GrantLocked(waiter.Kind, now)));
                }
            }

            if (granted is null)
            {
                return;
            }

            foreach (var pair in granted)
            {
                // Outside the lock: disposing a registration waits for a running cancel callback, which takes the lock.
                pair.Key.Registration.Dispose();
                if (!pair.Key.Completion.TrySetResult(pair.Value))
                {
                    pair.Value.Dispose();
                }
            }
        }

        private LinkedList<Waiter>? PickQueueLocked()
        {
            var pollsWaiting = _results.Count > 0 || _polls.Count > 0;
            var submitsWaiting = _submits.Count > 0;
            if (pollsWaiting && (!submitsWaiting || _pollStreak < PollsPerSubmit))
            {
                return _results.Count > 0 ? _results : _polls;
            }

            return submitsWaiting ? _submits : null;
        }

        private void ArmLocked(DateTimeOffset due, DateTimeOffset now)
        {
            if (_timerDue is DateTimeOffset pending && pending <= due)
            {
                return;
            }

            _timerDue = due;
            _timer.Schedule(due - now);
        }

        private sealed class Waiter
        {
            public Waiter(RequestKind kind)
            {
                Kind = kind;
            }

            public RequestKind Kind { get; }

            public TaskCompletionSource<IDisposable> Completion { get; } = new TaskCompletionSource<IDisposable>(TaskCreationOptions.RunContinuationsAsynchronously);

            /// <summary>Its place in a queue; null once granted or cancelled (guarded by the gate's lock).</summary>
            public LinkedListNode<Waiter>? Node { get; set; }

            public CancellationTokenRegistration Registration { get; set; }
        }

        private sealed class Slot : IDisposable
        {
            private RequestGate? _gate;
            private readonly bool _heldSlot;

            public Slot(RequestGate gate, bool heldSlot)
            {
                _gate = gate;
                _heldSlot = heldSlot;
            }

            public void Dispose() => Interlocked.Exchange(ref _gate, null)?.Release(_heldSlot);
        }
    }
}
