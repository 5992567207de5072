using System;
using System.Collections.Generic;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Submitting
{
    /// <summary>
    /// Writes each row's object in input order: a row's object goes out as soon as every earlier row's object has
    /// gone out (or the earlier row ended without one). Rows are numbered on the pipeline thread; they finish on any thread.
    /// </summary>
    internal sealed class InputOrder
    {
        private readonly object _lock = new object();
        private readonly Dictionary<int, Slot> _done = new Dictionary<int, Slot>();
        private int _next;
        private int _reserved;

        /// <summary>Takes the next place in line (pipeline thread).</summary>
        public int Reserve() => _reserved++;

        /// <summary>The row in place <paramref name="slot"/> ended with <paramref name="value"/> (null: nothing to write).</summary>
        public void Complete(int slot, object? value, IOperationSink sink, Action? written = null)
        {
            lock (_lock)
            {
                _done[slot] = new Slot(value, written);

                // Posting under the lock keeps the sink's queue in input order.
                while (_done.TryGetValue(_next, out var ready))
                {
                    _done.Remove(_next);
                    _next++;
                    if (ready.Value != null)
                    {
                        sink.WriteObject(ready.Value, ready.Written ?? NoOp);
                    }
                }
            }
        }

        private static void NoOp()
        {
        }

        private readonly struct Slot
        {
            public Slot(object? value, Action? written)
            {
                Value = value;
                Written = written;
            }

            public object? Value { get; }

            public Action? Written { get; }
        }
    }
}
