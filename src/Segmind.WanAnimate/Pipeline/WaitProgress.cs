using System;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Threading;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// One aggregate progress bar for many jobs being waited on. Records go through the sink, so on the
    /// pipeline they are written by the pipeline thread, and in a job they land in its Progress stream.
    /// </summary>
    internal sealed class WaitProgress
    {
        public const string DefaultActivity = "Waiting for Wan Animate jobs";

        private static readonly TimeSpan MinimumInterval = TimeSpan.FromMilliseconds(250);

        private readonly object _lock = new object();
        // The elapsed time shown and the redraw limit are for the person watching: wall time.
        private readonly Stopwatch _elapsed = new Stopwatch();
        private readonly string _activity;
        private readonly int _activityId;
        private int _total;
        private int _completed;
        private int _failed;
        private int _ended;
        private long _lastPostTicks = long.MinValue;
        private PollObserver? _observer;

        public WaitProgress(int activityId, string activity = DefaultActivity)
        {
            _activityId = activityId;
            _activity = activity;
        }

        public int Total => Volatile.Read(ref _total);

        /// <summary>The poll observer for <paramref name="sink"/>, one shared by every job that writes there.</summary>
        public PollObserver ObserverFor(IOperationSink sink)
        {
            var observer = Volatile.Read(ref _observer);
            if (observer == null || !ReferenceEquals(observer.Sink, sink))
            {
                observer = new PollObserver(this, sink);
                Volatile.Write(ref _observer, observer);
            }

            return observer;
        }

        public void Added(IOperationSink sink)
        {
            lock (_lock)
            {
                _total++;
                _elapsed.Start();
            }

            Post(sink, force: false);
        }

        public void Completed(IOperationSink sink) => Count(sink, ref _completed);

        public void Failed(IOperationSink sink) => Count(sink, ref _failed);

        /// <summary>Ended without a result of its own (timed out, not found, cancelled...).</summary>
        public void EndedOtherwise(IOperationSink sink) => Count(sink, ref _ended);

        /// <summary>A poll happened: refresh the elapsed time now and then.</summary>
        public void Polled(IOperationSink sink) => Post(sink, force: false);

        public void Finish(IOperationSink sink)
        {
            ProgressRecord record;
            lock (_lock)
            {
                if (_total == 0)
                {
                    return;
                }

                record = Build();
                record.RecordType = ProgressRecordType.Completed;
                record.PercentComplete = 100;
            }

            sink.WriteProgress(record);
            sink.SetStatus(Summary());
        }

        public string Summary()
        {
            lock (_lock)
            {
                return string.Format(
                    CultureInfo.InvariantCulture,
                    "{0} completed, {1} failed, {2} running, elapsed {3}",
                    _completed,
                    _failed,
                    Running,
                    FormatElapsed(_elapsed.Elapsed));
            }
        }

        private int Running => Math.Max(0, _total - _completed - _failed - _ended);

        private static string FormatElapsed(TimeSpan elapsed) =>
            string.Format(CultureInfo.InvariantCulture, "{0:00}:{1:00}", Math.Floor(elapsed.TotalMinutes), elapsed.Seconds);

        private void Count(IOperationSink sink, ref int counter)
        {
            lock (_lock)
            {
                counter++;
            }

            Post(sink, force: true);
        }

        private void Post(IOperationSink sink, bool force)
        {
            ProgressRecord record;
            string summary;
            lock (_lock)
            {
                var now = _elapsed.Elapsed.Ticks;
                if (!force && _lastPostTicks != long.MinValue && now - _lastPostTicks < MinimumInterval.Ticks)
                {
                    return;
                }

                _lastPostTicks = now;
                record = Build();
                summary = record.StatusDescription;
            }

            sink.WriteProgress(record);
            sink.SetStatus(summary);
        }

        private ProgressRecord Build()
        {
            var done = _completed + _failed + _ended;
            var status = string.Format(
                CultureInfo.InvariantCulture,
                "{0} completed, {1} failed, {2} running, elapsed {3}",
                _completed,
                _failed,
                Running,
                FormatElapsed(_elapsed.Elapsed));
            return new ProgressRecord(_activityId, _activity, status)
            {
                PercentComplete = _total == 0 ? 0 : Math.Min(100, done * 100 / _total),
            };
        }
    }
}
