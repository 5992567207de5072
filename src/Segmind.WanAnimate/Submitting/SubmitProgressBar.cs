using System;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Threading;
using Segmind.Client;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Submitting
{
    /// <summary>
    /// The submit progress bar, shown next to the wait bar: how many rows were submitted, how many wait for the
    /// account's request budget, and the rate in force (and a 429 pause, when there is one).
    /// </summary>
    internal sealed class SubmitProgressBar
    {
        public const int ActivityId = 0x5E6E;
        public const string Activity = "Submitting Wan Animate jobs";

        private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(250);

        private readonly JournaledSubmitter _submitter;
        private readonly Func<RequestGateStatus?> _gate;
        private readonly TimeProvider _time;

        // The redraw limit is for the person watching: wall time.
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly object _lock = new object();
        private long _lastPost = long.MinValue;
        private int _shown;

        /// <summary>A bar for <paramref name="submitter"/>'s rows; <paramref name="gate"/> reads the account's gate, whose pause is on <paramref name="time"/> (the client's clock).</summary>
        public SubmitProgressBar(JournaledSubmitter submitter, Func<RequestGateStatus?> gate, TimeProvider time)
        {
            _submitter = submitter;
            _gate = gate;
            _time = time;
        }

        /// <summary>Shows the current counts (at most four times a second, unless <paramref name="force"/>).</summary>
        public void Update(IOperationSink sink, bool force = false)
        {
            ProgressRecord record;
            lock (_lock)
            {
                var now = _clock.Elapsed.Ticks;
                if (!force && _lastPost != long.MinValue && now - _lastPost < MinimumInterval.Ticks)
                {
                    return;
                }

                _lastPost = now;
                record = new ProgressRecord(ActivityId, Activity, Describe());
            }

            Volatile.Write(ref _shown, 1);
            sink.WriteProgress(record);
            if (sink.StatusWanted)
            {
                sink.SetStatus(record.StatusDescription);
            }
        }

        /// <summary>Removes the bar, if it was shown.</summary>
        public void Finish(IOperationSink sink)
        {
            if (Volatile.Read(ref _shown) == 0)
            {
                return;
            }

            var record = new ProgressRecord(ActivityId, Activity, Describe()) { RecordType = ProgressRecordType.Completed };
            sink.WriteProgress(record);
        }

        public string Describe()
        {
            var counts = _submitter.Progress;
            var culture = CultureInfo.InvariantCulture;
            var text = string.Format(culture, "{0} submitted, {1} waiting for budget, {2} sending", counts.Submitted, counts.Waiting, counts.Sending);
            if (counts.NotSubmitted > 0)
            {
                text += string.Format(culture, ", {0} not submitted", counts.NotSubmitted);
            }

            if (counts.Unknown > 0)
            {
                text += string.Format(culture, ", {0} unknown", counts.Unknown);
            }

            RequestGateStatus? gate = null;
            try
            {
                gate = _gate();
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is ObjectDisposedException || ex is SegmindException)
            {
            }

            if (gate != null)
            {
                text += "; rate " + (gate.EffectiveRequestsPerMinute is double rate ? rate.ToString("0.#", culture) + " requests/min" : "unlimited");
                if (gate.PausedUntil is DateTimeOffset until && until > _time.GetUtcNow())
                {
                    text += ", paused after a 429 until " + until.ToString("HH:mm:ss'Z'", culture);
                }
            }

            return text;
        }
    }
}
