using System;

namespace Segmind.Client
{
    /// <summary>
    /// Decides the rate of a <see cref="RequestGate"/> from what the server accepts and refuses. Not thread-safe:
    /// the gate calls it under its lock. See <see cref="RequestGate"/> for the algorithm in words.
    /// </summary>
    internal sealed class RateLearner
    {
        /// <summary>The trailing window answers and refusals are counted over (Segmind's budgets are per minute).</summary>
        public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

        /// <summary>A cut sets the rate to this share of what the server accepted in the last minute: just under the budget.</summary>
        public const double Headroom = 0.95;

        /// <summary>Clean time (no 429) before a cut rate starts to climb back.</summary>
        public static readonly TimeSpan QuietBeforeRecovery = TimeSpan.FromMinutes(1);

        /// <summary>Then the rate climbs ×<see cref="Climb"/> every <see cref="ClimbEvery"/> up to the ceiling: from half the rate, back in 40 s.</summary>
        public const double Climb = 1.2;

        /// <summary>Past a learned budget it first probes gently (×1.05 a step for <see cref="GentleProbe"/>), so crossing the budget costs one or two 429s.</summary>
        public const double ProbeClimb = 1.05;

        public static readonly TimeSpan GentleProbe = TimeSpan.FromSeconds(30);

        public static readonly TimeSpan ClimbEvery = TimeSpan.FromSeconds(10);

        /// <summary>Confirmations of one budget that double the quiet time before a probe: 1, 2, 4, then 8 minutes.</summary>
        public const int MaxConfirmations = 3;

        /// <summary>After a cut that did not reduce the share of 429s, no cut for this long: the 429s were not about our rate.</summary>
        public static readonly TimeSpan NoCutAfterUselessCut = TimeSpan.FromMinutes(5);

        /// <summary>Answers, counted from a full window after the cut (the server's window has drained), before the cut is judged.</summary>
        public const int AnswersToJudgeACut = 20;

        /// <summary>Refusals after a cut (from a full window on) before it can be judged useless.</summary>
        public const int RefusalsToCallACutUseless = 3;

        /// <summary>
        /// The share of 429s over the last minute that, with a second burst within the minute, says the rate is over a
        /// budget. Random refusals (a 10 % storm) stay below it; sending past a real budget goes far above it.
        /// </summary>
        public const double BudgetShare = 0.2;

        /// <summary>
        /// Consecutive bursts with several refusals (requests in flight refused together: sent into a full window) that
        /// make a budget likely even when the share stays low, because the gate's pauses keep the server busy between them.
        /// </summary>
        public const int CrowdedBurstsForABudget = 3;

        private readonly MinuteCounter _answers = new MinuteCounter();
        private readonly MinuteCounter _refusals = new MinuteCounter();

        private DateTimeOffset? _lastEpisode;
        private DateTimeOffset? _lastRefusal;
        private DateTimeOffset _lastClimb;
        private DateTimeOffset? _cutAt;
        private DateTimeOffset _judgeFrom;
        private double? _rateBeforeCut;
        private double _shareBeforeCut;
        private int _answersSinceCut;
        private int _refusalsSinceCut;
        private DateTimeOffset _noCutUntil;
        private DateTimeOffset? _probingSince;
        private int _refusalsThisEpisode;
        private int _crowdedBursts;
        private DateTimeOffset? _lastCrowdedBurst;
        private DateTimeOffset? _lastCutAt;
        private int _confirmations;
        private bool _deeperCutTried;

        /// <summary>Requests a minute the server accepted at the last cut: the budget as learned; null before any.</summary>
        public double? LearnedBudget { get; private set; }

        /// <summary>Cuts made since the gate was created (for diagnostics and tests).</summary>
        public int Cuts { get; private set; }

        /// <summary>A request ended (whatever its answer); 429s are reported separately through <see cref="OnRateLimited"/>.</summary>
        public void OnAnswer(DateTimeOffset now)
        {
            _answers.Add(now);
            if (_cutAt.HasValue && now >= _judgeFrom)
            {
                _answersSinceCut++;
            }
        }

        /// <summary>
        /// A 429 arrived. <paramref name="newEpisode"/> is false for reports during a running pause (the same burst).
        /// Returns the rate to use from now on: <paramref name="current"/> (pause only) or a cut / a restored rate.
        /// </summary>
        public double? OnRateLimited(DateTimeOffset now, bool newEpisode, double? current, double? ceiling)
        {
            _refusals.Add(now);
            _lastRefusal = now;
            if (_cutAt.HasValue && now >= _judgeFrom)
            {
                _refusalsSinceCut++;
            }

            if (!newEpisode)
            {
                // The second refusal of one burst: several requests in flight were sent into a full window. Bursts
                // like that, one after another, say the window is a budget even at a low share (pausing alone keeps
                // the window full and loses the requests in flight each time it fills), so try a cut; the judge below
                // restores it if the refusals were random after all.
                if (++_refusalsThisEpisode != 2)
                {
                    return current;
                }

                _crowdedBursts = _lastCrowdedBurst is DateTimeOffset lastCrowded && now - lastCrowded < Window + Window ? _crowdedBursts + 1 : 1;
                _lastCrowdedBurst = now;
                if (_crowdedBursts < CrowdedBurstsForABudget || now < _noCutUntil || _cutAt.HasValue)
                {
                    return current;
                }

                _crowdedBursts = 0;
                return Cut(now, current, ceiling);
            }

            _refusalsThisEpisode = 1;
            var previousEpisode = _lastEpisode;
            _lastEpisode = now;

            // A cut that changed nothing: the 429s come at the same share whatever the rate, so they are not a budget.
            // One refusal is no evidence (a probe past the budget costs one): a cut is judged on several, or
            // called useful after many clean answers.
            if (_cutAt.HasValue && _answersSinceCut >= AnswersToJudgeACut
                && (_refusalsSinceCut >= RefusalsToCallACutUseless || _answersSinceCut >= AnswersToJudgeACut * 5))
            {
                var shareSinceCut = _refusalsSinceCut / (double)Math.Max(1, _answersSinceCut);
                var useless = _refusalsSinceCut >= RefusalsToCallACutUseless && shareSinceCut >= _shareBeforeCut * 0.5;
                if (useless && !_deeperCutTried)
                {
                    // Refusals went on: either they are not about our rate, or the budget was learned a little high
                    // (a minute counted here can straddle the server's). Cut once more, to what the server accepted
                    // in the minutes since the cut; if that changes nothing either, the rate before the first cut comes back.
                    _deeperCutTried = true;
                    var deeper = Cut(now, current, ceiling, keepExperiment: true);
                    if (deeper != current)
                    {
                        // It is judged against the refusals it is meant to end: random ones go on at the same share,
                        // and then the rate from before the first cut comes back, not a lower one.
                        _shareBeforeCut = shareSinceCut;
                        return deeper;
                    }
                }

                var restored = _rateBeforeCut;
                _cutAt = null;
                _deeperCutTried = false;
                if (useless)
                {
                    _noCutUntil = now + NoCutAfterUselessCut;
                    _lastClimb = now;
                    return restored;
                }
            }

            // For a window after a cut the server still counts what was sent before it: 429s then only pause.
            if (now < _noCutUntil || (_cutAt.HasValue && now < _judgeFrom))
            {
                return current;
            }

            // Evidence of a budget: a second burst within the window while a large share is refused, or any 429
            // once the rate has climbed above a budget learned earlier.
            var answers = _answers.Sum(now);
            var refusals = _refusals.Sum(now);
            var crowded = previousEpisode.HasValue && now - previousEpisode.Value < Window && refusals >= BudgetShare * Math.Max(1, answers);
            var probedPast = LearnedBudget is double budget && current is double rate && rate > budget;
            if (!crowded && !probedPast)
            {
                return current;
            }

            // A probe past the learned budget that meets a 429 confirms that budget; it does not lower it (the
            // minute before counted a little less than the budget, being paced under it).
            return Cut(now, current, ceiling, crowded ? null : LearnedBudget);
        }

        /// <summary>Cuts to just under what the server accepted over the last minute (unless that is no lower than now).</summary>
        private double? Cut(DateTimeOffset now, double? current, double? ceiling, double? confirmed = null, bool keepExperiment = false)
        {
            var answers = _answers.Sum(now);
            var refusals = _refusals.Sum(now);

            // What the server accepted in a minute: the best minute of the last two, since pauses (an exact
            // Retry-After waits for the window to drain) can leave the last minute nearly empty.
            var accepted = Math.Max(0, answers - refusals);
            for (var back = 1; back < 60; back++)
            {
                // Only minutes wholly after the last cut: before it the gate sent more than it does now.
                var then = now - TimeSpan.FromSeconds(back);
                if (_lastCutAt is DateTimeOffset lastCut && then - Window < lastCut)
                {
                    break;
                }

                accepted = Math.Max(accepted, _answers.Sum(then) - _refusals.Sum(then));
            }

            _lastCutAt = now;
            var learned = Math.Max(RequestGateOptions.MinimumRequestsPerMinute, Math.Max(accepted, confirmed ?? 0));
            _confirmations = confirmed is double same && learned <= same * 1.1 ? _confirmations + 1 : 0;
            var cut = Math.Max(RequestGateOptions.MinimumRequestsPerMinute, learned * Headroom);
            if (ceiling is double cap && cut > cap)
            {
                cut = cap;
            }

            if (current is double before && cut >= before)
            {
                // The server accepted more than we send: the 429s are not about our rate; pausing is enough.
                return current;
            }

            LearnedBudget = learned;
            Cuts++;
            if (!keepExperiment)
            {
                // A deeper cut keeps the rate to undo them both to.
                _rateBeforeCut = current;
                _shareBeforeCut = refusals / (double)Math.Max(1, answers);
                _deeperCutTried = false;
            }

            _cutAt = now;
            _judgeFrom = now + Window;
            _answersSinceCut = 0;
            _refusalsSinceCut = 0;
            _lastClimb = now;
            return cut;
        }

        /// <summary>After a clean minute the rate climbs back, never above the ceiling.</summary>
        public double? Recover(DateTimeOffset now, double? current, double? ceiling)
        {
            if (!(current is double rate))
            {
                return current;
            }

            var quiet = _lastRefusal is DateTimeOffset last ? now - last : TimeSpan.MaxValue;
            var probing = LearnedBudget is double known && rate >= known * Headroom;

            // Each probe that met the same budget again doubles the quiet time before the next one (up to 8
            // minutes): a budget confirmed several times rarely moves, and every probe past it costs a 429.
            var needed = probing ? TimeSpan.FromTicks(QuietBeforeRecovery.Ticks << Math.Min(_confirmations, MaxConfirmations)) : QuietBeforeRecovery;
            if (quiet < needed || now - _lastClimb < ClimbEvery)
            {
                return current;
            }

            _lastClimb = now;
            if (!probing)
            {
                _probingSince = null;
            }
            else if (_probingSince is null)
            {
                _probingSince = now;
            }

            var gentle = probing && now - _probingSince!.Value < GentleProbe;
            var raised = rate * (gentle ? ProbeClimb : Climb);
            if (ceiling is double cap)
            {
                return raised >= cap ? cap : raised;
            }

            // No ceiling: once well past anything the server accepted, the gate is unlimited again.
            return !(LearnedBudget is double seen) || raised >= seen * 2 ? (double?)null : raised;
        }

        /// <summary>Counts events per second over the trailing two minutes in a ring of 120 buckets: constant memory at any rate.</summary>
        private sealed class MinuteCounter
        {
            private readonly int[] _counts = new int[120];
            private readonly long[] _seconds = new long[120];

            public void Add(DateTimeOffset now)
            {
                var second = now.UtcTicks / TimeSpan.TicksPerSecond;
                var index = (int)(second % _counts.Length);
                if (_seconds[index] != second)
                {
                    _seconds[index] = second;
                    _counts[index] = 0;
                }

                _counts[index]++;
            }

            /// <summary>Events in the minute that ends at <paramref name="end"/> (at most a minute before the latest event).</summary>
            public int Sum(DateTimeOffset end)
            {
                var last = end.UtcTicks / TimeSpan.TicksPerSecond;
                var total = 0;
                for (var i = 0; i < _counts.Length; i++)
                {
                    var age = last - _seconds[i];
                    if (age >= 0 && age < 60)
                    {
                        total += _counts[i];
                    }
                }

                return total;
            }
        }
    }
}
