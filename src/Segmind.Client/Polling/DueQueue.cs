using System;
using System.Collections.Generic;

namespace Segmind.Client
{
    /// <summary>An item of a <see cref="DueQueue{T}"/>: when it is due, and where it sits (for removal in O(log n)).</summary>
    internal abstract class DueItem
    {
        /// <summary>UTC ticks at which the item is due.</summary>
        public long DueTicks { get; set; }

        /// <summary>Insertion order, so items due at the same tick come out first in, first out.</summary>
        public long Sequence { get; set; }

        /// <summary>Position in the heap; -1 when not queued.</summary>
        public int HeapIndex { get; set; } = -1;
    }

    /// <summary>
    /// A binary min-heap keyed by due time: one array for any number of waiting jobs, O(log n) insert, pop and
    /// removal. Not thread-safe; the owner locks.
    /// </summary>
    internal sealed class DueQueue<T>
        where T : DueItem
    {
        private readonly List<T> _heap = new List<T>();
        private long _nextSequence;

        public int Count => _heap.Count;

        public T Peek() => _heap.Count > 0 ? _heap[0] : throw new InvalidOperationException("The queue is empty.");

        public void Enqueue(T item, long dueTicks)
        {
            if (item.HeapIndex >= 0)
            {
                throw new InvalidOperationException("The item is already queued.");
            }

            item.DueTicks = dueTicks;
            item.Sequence = _nextSequence++;
            item.HeapIndex = _heap.Count;
            _heap.Add(item);
            SiftUp(item.HeapIndex);
        }

        public T Dequeue()
        {
            var top = Peek();
            RemoveAt(0);
            return top;
        }

        /// <summary>Removes the item when it is queued; returns whether it was.</summary>
        public bool Remove(T item)
        {
            var index = item.HeapIndex;
            if (index < 0 || index >= _heap.Count || !ReferenceEquals(_heap[index], item))
            {
                return false;
            }

            RemoveAt(index);
            return true;
        }

        public List<T> DrainAll()
        {
            var all = new List<T>(_heap);
            foreach (var item in all)
            {
                item.HeapIndex = -1;
            }

            _heap.Clear();
            return all;
        }

        private void RemoveAt(int index)
        {
            var removed = _heap[index];
            var lastIndex = _heap.Count - 1;
            var last = _heap[lastIndex];
            _heap.RemoveAt(lastIndex);
            removed.HeapIndex = -1;
            if (index == lastIndex)
            {
                return;
            }

            _heap[index] = last;
            last.HeapIndex = index;
            if (index > 0 && Less(last, _heap[(index - 1) / 2]))
            {
                SiftUp(index);
            }
            else
            {
                SiftDown(index);
            }
        }

        private static bool Less(T a, T b) => a.DueTicks < b.DueTicks || (a.DueTicks == b.DueTicks && a.Sequence < b.Sequence);

        private void SiftUp(int index)
        {
            var item = _heap[index];
            while (index > 0)
            {
                var parentIndex = (index - 1) / 2;
                var parent = _heap[parentIndex];
                if (!Less(item, parent))
                {
                    break;
                }

                _heap[index] = parent;
                parent.HeapIndex = index;
                index = parentIndex;
            }

            _heap[index] = item;
            item.HeapIndex = index;
        }

        private void SiftDown(int index)
        {
            var item = _heap[index];
            var count = _heap.Count;
            while (true)
            {
                var left = (2 * index) + 1;
                if (left >= count)
                {
                    break;
                }

                var right = left + 1;
                var smallest = right < count && Less(_heap[right], _heap[left]) ? right : left;
                if (!Less(_heap[smallest], item))
                {
                    break;
                }

                _heap[index] = _heap[smallest];
                _heap[index].HeapIndex = index;
                index = smallest;
            }

            _heap[index] = item;
            item.HeapIndex = index;
        }
    }
}
