using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Segmind.Emulator;

/// <summary>The kinds of fault the emulator injects.</summary>
public enum FaultKind
{
    /// <summary>An injected 429 with Retry-After.</summary>
    RateLimit,

    /// <summary>An injected 500, 502, 503 or 504.</summary>
    ServerError,

    /// <summary>The connection was dropped before the request was handled: nothing happened.</summary>
    DropBeforeAccept,

    /// <summary>The connection was dropped after the request was handled: a submit was accepted and charged.</summary>
    DropAfterAccept,

    /// <summary>The answer was delayed.</summary>
    SlowResponse,
}

/// <summary>
/// What the emulator has seen and done, for tests and benchmarks to assert on. Thread-safe; also served as JSON at
/// <c>GET /_emulator/counters</c>.
/// </summary>
public sealed class EmulatorCounters
{
    private readonly long[] _requests = new long[Enum.GetValues<EndpointGroup>().Length];
    private readonly long[] _faults = new long[Enum.GetValues<FaultKind>().Length];
    private readonly ConcurrentDictionary<int, long> _responsesByStatus = new();
    private readonly ConcurrentDictionary<string, long> _acceptedByFingerprint = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _acceptedAt = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, bool Failed)> _finishedAt = new(StringComparer.Ordinal);
    private long _acceptedSubmits;
    private long _acceptedSyncRuns;
    private long _rateLimitedResponses;
    private long _droppedConnections;
    private long _jobsCompleted;
    private long _jobsFailed;
    private long _jobsExpired;

    /// <summary>Requests that reached an endpoint group (faulted, refused and served alike).</summary>
    public long Requests(EndpointGroup group) => Interlocked.Read(ref _requests[(int)group]);

    /// <summary>Requests over every endpoint group.</summary>
    public long TotalRequests
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _requests.Length; i++) total += Interlocked.Read(ref _requests[i]);
            return total;
        }
    }

    /// <summary>Faults injected of one kind.</summary>
    public long Faults(FaultKind kind) => Interlocked.Read(ref _faults[(int)kind]);

    /// <summary>Answers sent with this HTTP status (dropped connections have none).</summary>
    public long Responses(int statusCode) => _responsesByStatus.TryGetValue(statusCode, out var count) ? count : 0;

    /// <summary>v2 submits that created a (paid) job.</summary>
    public long AcceptedSubmits => Interlocked.Read(ref _acceptedSubmits);

    /// <summary>Blocking v1 runs that created a (paid) job.</summary>
    public long AcceptedSyncRuns => Interlocked.Read(ref _acceptedSyncRuns);

    /// <summary>Every paid job: v2 submits and v1 runs.</summary>
    public long AcceptedJobs => AcceptedSubmits + AcceptedSyncRuns;

    /// <summary>Every 429 served, whether from the rate limit or injected.</summary>
    public long RateLimitedResponses => Interlocked.Read(ref _rateLimitedResponses);

    /// <summary>Connections aborted on purpose, before or after handling.</summary>
    public long DroppedConnections => Interlocked.Read(ref _droppedConnections);

    public long JobsCompleted => Interlocked.Read(ref _jobsCompleted);
    public long JobsFailed => Interlocked.Read(ref _jobsFailed);

    /// <summary>Finished jobs whose result was dropped after retention (or by <see cref="EmulatorServer.ExpireJob"/>).</summary>
    public long JobsExpired => Interlocked.Read(ref _jobsExpired);

    /// <summary>Paid jobs (v2 and v1) accepted for one input; see <see cref="Fingerprint"/>.</summary>
    public long AcceptedJobsFor(string fingerprint) => _acceptedByFingerprint.TryGetValue(fingerprint, out var count) ? count : 0;

    /// <summary>A copy of the paid jobs accepted per input fingerprint.</summary>
    public IReadOnlyDictionary<string, long> AcceptedJobsByFingerprint => new Dictionary<string, long>(_acceptedByFingerprint, StringComparer.Ordinal);

    /// <summary>The ids of every job accepted since start or the last reset (v2 and v1), in no particular order.</summary>
    public IReadOnlyCollection<string> AcceptedRequestIds => _acceptedAt.Keys.ToList();

    /// <summary>When the job was accepted (wall clock), or null for an unknown id.</summary>
    public DateTimeOffset? AcceptedAt(string requestId) => _acceptedAt.TryGetValue(requestId, out var at) ? at : null;

    /// <summary>When the job became COMPLETED (wall clock; null if it has not, or ended FAILED).</summary>
    public DateTimeOffset? CompletedAt(string requestId) =>
        _finishedAt.TryGetValue(requestId, out var entry) && !entry.Failed ? entry.At : null;

    /// <summary>When the job reached COMPLETED or FAILED (wall clock), or null while it runs.</summary>
    public DateTimeOffset? FinishedAt(string requestId) => _finishedAt.TryGetValue(requestId, out var entry) ? entry.At : null;

    /// <summary>
    /// The identity of one wan-animate input row: a hash of input_video, reference_image, prompt, mode, resolution
    /// and seed (defaults applied), so a test can assert "exactly one accepted job per row".
    /// </summary>
    public static string Fingerprint(string inputVideo, string referenceImage, string prompt, string mode, string resolution, long seed)
    {
        var builder = new StringBuilder();
        foreach (var part in new[] { inputVideo, referenceImage, prompt, mode, resolution, seed.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            // Length-prefixed so that no two different rows can join into the same text.
            builder.Append(part.Length).Append(':').Append(part).Append('\n');
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString()));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    internal void CountRequest(EndpointGroup group) => Interlocked.Increment(ref _requests[(int)group]);

    internal void CountFault(FaultKind kind)
    {
        Interlocked.Increment(ref _faults[(int)kind]);
        if (kind is FaultKind.DropBeforeAccept or FaultKind.DropAfterAccept)
        {
            Interlocked.Increment(ref _droppedConnections);
        }
    }

    internal void CountResponse(int statusCode)
    {
        _responsesByStatus.AddOrUpdate(statusCode, 1, static (_, count) => count + 1);
        if (statusCode == 429)
        {
            Interlocked.Increment(ref _rateLimitedResponses);
        }
    }

    internal void CountAccepted(string requestId, string fingerprint, bool sync, DateTimeOffset at)
    {
        Interlocked.Increment(ref sync ? ref _acceptedSyncRuns : ref _acceptedSubmits);
        _acceptedByFingerprint.AddOrUpdate(fingerprint, 1, static (_, count) => count + 1);
        _acceptedAt[requestId] = at;
    }

    internal void CountFinished(string requestId, bool failed, DateTimeOffset at)
    {
        Interlocked.Increment(ref failed ? ref _jobsFailed : ref _jobsCompleted);
        _finishedAt[requestId] = (at, failed);
    }

    internal void CountExpired() => Interlocked.Increment(ref _jobsExpired);

    internal void Reset()
    {
        for (var i = 0; i < _requests.Length; i++) Interlocked.Exchange(ref _requests[i], 0);
        for (var i = 0; i < _faults.Length; i++) Interlocked.Exchange(ref _faults[i], 0);
        _responsesByStatus.Clear();
        _acceptedByFingerprint.Clear();
        _acceptedAt.Clear();
        _finishedAt.Clear();
        Interlocked.Exchange(ref _acceptedSubmits, 0);
        Interlocked.Exchange(ref _acceptedSyncRuns, 0);
        Interlocked.Exchange(ref _rateLimitedResponses, 0);
        Interlocked.Exchange(ref _droppedConnections, 0);
        Interlocked.Exchange(ref _jobsCompleted, 0);
        Interlocked.Exchange(ref _jobsFailed, 0);
        Interlocked.Exchange(ref _jobsExpired, 0);
    }

    /// <summary>The counters as the JSON served at <c>/_emulator/counters</c> (snake_case names).</summary>
    internal Dictionary<string, object?> ToJsonObject()
    {
        return new Dictionary<string, object?>
        {
            ["requests"] = Enum.GetValues<EndpointGroup>().ToDictionary(group => ToSnakeCase(group.ToString()), Requests),
            ["total_requests"] = TotalRequests,
            ["responses_by_status"] = _responsesByStatus.OrderBy(pair => pair.Key).ToDictionary(pair => pair.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), pair => pair.Value),
            ["accepted_submits"] = AcceptedSubmits,
            ["accepted_sync_runs"] = AcceptedSyncRuns,
            ["accepted_jobs"] = AcceptedJobs,
            ["accepted_jobs_by_fingerprint"] = AcceptedJobsByFingerprint,
            ["rate_limited_responses"] = RateLimitedResponses,
            ["dropped_connections"] = DroppedConnections,
            ["faults"] = Enum.GetValues<FaultKind>().ToDictionary(kind => ToSnakeCase(kind.ToString()), Faults),
            ["jobs_completed"] = JobsCompleted,
            ["jobs_failed"] = JobsFailed,
            ["jobs_expired"] = JobsExpired,
        };
    }

    internal static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) builder.Append('_');
            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}
