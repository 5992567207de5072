using System.Collections.Concurrent;
using Segmind.Client;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>A request gate that never waits but records every entry and every 429 report.</summary>
public sealed class RecordingGate : IRequestGate
{
    private readonly ConcurrentQueue<RequestKind> _entries = new();
    private readonly ConcurrentQueue<TimeSpan?> _rateLimits = new();
    private int _inside;
    private int _maxInside;

    /// <summary>Runs on every ReportRateLimited, e.g. to switch an injected fault off so the retry succeeds.</summary>
    public Action<TimeSpan?>? OnRateLimited { get; set; }

    /// <summary>Runs on every entry with the kind and how many entries of that kind there have been (1-based).</summary>
    public Action<RequestKind, int>? OnEnter { get; set; }

    public IReadOnlyList<RequestKind> Entries => _entries.ToList();

    public IReadOnlyList<TimeSpan?> RateLimitReports => _rateLimits.ToList();

    public int Count(RequestKind kind) => _entries.Count(entry => entry == kind);

    /// <summary>True while some request holds its slot (the gate is held around send and read).</summary>
    public int Inside => Volatile.Read(ref _inside);

    public int MaxInside => Volatile.Read(ref _maxInside);

    public ValueTask<IDisposable> EnterAsync(RequestKind kind, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _entries.Enqueue(kind);
        OnEnter?.Invoke(kind, Count(kind));
        var now = Interlocked.Increment(ref _inside);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInside)) && Interlocked.CompareExchange(ref _maxInside, now, seen) != seen)
        {
        }

        return new ValueTask<IDisposable>(new Slot(this));
    }

    public void ReportRateLimited(TimeSpan? retryAfter)
    {
        _rateLimits.Enqueue(retryAfter);
        OnRateLimited?.Invoke(retryAfter);
    }

    private sealed class Slot : IDisposable
    {
        private RecordingGate? _owner;

        public Slot(RecordingGate owner) => _owner = owner;

        public void Dispose()
        {
            var owner = Interlocked.Exchange(ref _owner, null);
            if (owner is not null)
            {
                Interlocked.Decrement(ref owner._inside);
            }
        }
    }
}
