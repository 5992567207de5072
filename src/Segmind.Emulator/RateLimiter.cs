using System.Collections.Concurrent;

namespace Segmind.Emulator;

/// <summary>
/// The per-key request limit: a sliding 60-second window in emulated time. Refused requests do not use up the
/// budget, so a client that waits as told gets through.
/// </summary>
internal sealed class RateLimiter
{
    public const double WindowSeconds = 60;

    private readonly ConcurrentDictionary<string, Queue<double>> _windows = new(StringComparer.Ordinal);

    /// <summary>True when the request may go ahead; otherwise how many emulated seconds until it could.</summary>
    public bool TryAcquire(string apiKey, int limit, double now, out double retryAfterEmulatedSeconds)
    {
        retryAfterEmulatedSeconds = 0;
        if (limit <= 0)
        {
            return true;
        }

        var hits = _windows.GetOrAdd(apiKey, _ => new Queue<double>());
        lock (hits)
        {
            while (hits.Count > 0 && hits.Peek() <= now - WindowSeconds)
            {
                hits.Dequeue();
            }

            if (hits.Count < limit)
            {
                hits.Enqueue(now);
                return true;
            }

            // The request fits once enough of the oldest hits leave the window (more than one if the limit was lowered).
            var blocking = hits.ElementAt(hits.Count - limit);
            retryAfterEmulatedSeconds = Math.Max(0, blocking + WindowSeconds - now);
            return false;
        }
    }

    public void Clear() => _windows.Clear();
}
