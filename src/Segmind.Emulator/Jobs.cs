namespace Segmind.Emulator;

/// <summary>The states Segmind reports, spelled as it spells them.</summary>
public enum JobState
{
    Queued,
    Processing,
    Completed,
    Failed,
}

/// <summary>A consistent picture of one job at one moment; times are emulated seconds on the <see cref="ScaledClock"/>.</summary>
public sealed record JobView(
    string RequestId,
    JobState State,
    double SubmittedAt,
    double? StartedAt,
    double? FinishedAt,
    double? ExpiresAt,
    string? Error)
{
    public string StateName => State switch
    {
        JobState.Queued => "QUEUED",
        JobState.Processing => "PROCESSING",
        JobState.Completed => "COMPLETED",
        _ => "FAILED",
    };

    public bool IsFinished => State is JobState.Completed or JobState.Failed;
}

/// <summary>What a client asked for, after validation and defaults.</summary>
internal sealed record WanAnimateInput(
    string InputVideo,
    string ReferenceImage,
    string Prompt,
    string Mode,
    string Resolution,
    long Seed,
    bool Base64)
{
    public string Fingerprint => EmulatorCounters.Fingerprint(InputVideo, ReferenceImage, Prompt, Mode, Resolution, Seed);
}

/// <summary>
/// One emulated job. Its mutable fields change only under the scheduler's lock; readers use <see cref="View"/>,
/// an immutable snapshot replaced whole on every change.
/// </summary>
internal sealed class Job
{
    private JobView _view;

    public Job(string id, string apiKey, WanAnimateInput input, decimal cost, string? failureReason, bool sync, double submittedAt, double eligibleAt)
    {
        Id = id;
        ApiKey = apiKey;
        Input = input;
        Cost = cost;
        FailureReason = failureReason;
        Sync = sync;
        SubmittedAt = submittedAt;
        EligibleAt = eligibleAt;
        _view = new JobView(id, JobState.Queued, submittedAt, null, null, null, null);
    }

    public string Id { get; }
    public string ApiKey { get; }
    public WanAnimateInput Input { get; }
    public decimal Cost { get; }

    /// <summary>Decided at submit time: the job will end FAILED with this message after processing.</summary>
    public string? FailureReason { get; }

    public bool Sync { get; }
    public double SubmittedAt { get; }
    public double EligibleAt { get; }

    // Scheduler-owned state (guarded by the scheduler's lock).
    public JobState State { get; set; } = JobState.Queued;
    public double StartedAt { get; set; } = double.NaN;
    public double CompletesAt { get; set; } = double.NaN;
    public double FinishedAt { get; set; } = double.NaN;
    public double ExpiresAt { get; set; } = double.NaN;
    public bool Removed { get; set; }

    /// <summary>Resolves when the job ends; cancelled when it is discarded (reset, expiry, shutdown).</summary>
    public TaskCompletionSource<JobView> Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public JobView View => Volatile.Read(ref _view);

    /// <summary>Publishes the current state to readers; call under the scheduler's lock after every change.</summary>
    public void Publish()
    {
        var view = new JobView(
            Id,
            State,
            SubmittedAt,
            double.IsNaN(StartedAt) ? null : StartedAt,
            double.IsNaN(FinishedAt) ? null : FinishedAt,
            double.IsNaN(ExpiresAt) ? null : ExpiresAt,
            State == JobState.Failed ? FailureReason : null);
        Volatile.Write(ref _view, view);
    }
}
