using System.ComponentModel;

namespace Segmind.Emulator;

/// <summary>
/// Everything the emulator can be told. Bound from the configuration section <c>Emulator</c> on the command line
/// (<c>--Emulator:TimeScale=0.01</c>) and read live on every request, so a test may change any value mid-run.
/// Scalars are read atomically; to change a list, assign a new one rather than mutating it.
/// </summary>
public sealed class EmulatorOptions
{
    public const string SectionName = "Emulator";
    public const string DefaultApiKey = "emulator-key";
    public const string DefaultCommandLineUrl = "http://127.0.0.1:5080";
    public const string InProcessUrl = "http://127.0.0.1:0";

    [Description("Addresses to listen on, ';'-separated (http only). The command line's --urls sets it.")]
    public string? Urls { get; set; }

    [Description("Allow binding a non-loopback address (the command line's --allow-remote sets it).")]
    public bool AllowRemote { get; set; }

    [Description("Accepted x-api-key values.")]
    public List<string> ApiKeys { get; set; } = new() { DefaultApiKey };

    [Description("Keys that are known but refused with 403.")]
    public List<string> ForbiddenKeys { get; set; } = new();

    [Description("Credits each key starts with.")]
    public decimal StartingCredits { get; set; } = 1000m;

    [Description("Credits charged when a job is accepted.")]
    public decimal CostPerJob { get; set; } = 0.25m;

    [Description("API requests a key may make per emulated minute; 0 turns the limit off.")]
    public int RequestsPerMinute { get; set; }

    [Description("Jobs processed at once; the rest wait in line.")]
    public int Workers { get; set; } = 4;

    /// <summary>Where <see cref="RetentionSeconds"/> is counted from: <see cref="RetentionStart.Submission"/> (Segmind's rule, the default) or completion.</summary>
    [Description("Where RetentionSeconds counts from: Submission (Segmind's rule) or Completion.")]
    public RetentionStart RetentionFrom { get; set; } = RetentionStart.Submission;

    /// <summary>
    /// The endpoint groups <see cref="RequestsPerMinute"/> counts and refuses; null or empty means every API request
    /// (submit, status, result, sync, credits, upload), as Segmind's per-account budget does.
    /// </summary>
    [Description("Endpoint groups RequestsPerMinute counts and refuses (Submit, Status, Result, Sync, Credits, Upload); unset means every API request.")]
    public List<EndpointGroup>? RateLimitedEndpoints { get; set; }

    [Description("Emulated seconds a job stays QUEUED before a worker may take it.")]
    public double QueueSeconds { get; set; } = 10;

    [Description("Emulated seconds a job spends PROCESSING.")]
    public double ProcessingSeconds { get; set; } = 400;

    [Description("Emulated seconds a job's status and result are kept (see RetentionFrom); afterwards its id answers 404.")]
    public double RetentionSeconds { get; set; } = 3600;

    [Description("Real seconds per emulated second: 0.01 turns a 400 s job into 4 s.")]
    public double TimeScale { get; set; } = 1.0;

    /// <summary>
    /// State 429 hints (<c>Retry-After</c>, <c>x-rate-limit-reset-at-utc</c>) in emulated time instead of real time,
    /// for a client that runs on the same scaled clock (a ScaledTimeProvider started at the emulator's emulated time).
    /// </summary>
    [Description("State 429 hints (Retry-After, x-rate-limit-reset-at-utc) in emulated time, for a client on the same scaled clock.")]
    public bool HintsInEmulatedTime { get; set; }

    [Description("A prompt containing this text makes the job end FAILED after processing.")]
    public string FailPromptMarker { get; set; } = "[fail]";

    [Description("Chance that an accepted job ends FAILED anyway.")]
    public double FailureProbability { get; set; }

    [Description("The error text of a FAILED job.")]
    public string FailureMessage { get; set; } = "Content blocked: the request was flagged by the safety checker";

    [Description("Name of the URL list in upload-asset answers: file_urls or urls.")]
    public string UploadUrlsField { get; set; } = "file_urls";

    [Description("Bytes of a trailing MP4 'free' box appended to served videos (values 1-7 become 8).")]
    public long OutputPaddingBytes { get; set; }

    [Description("Largest submit or blocking-run body, in bytes; larger ones get 413.")]
    public long MaxSubmitBodyBytes { get; set; } = 1024 * 1024;

    [Description("Largest upload-asset body, in bytes; larger ones get 413.")]
    public long MaxUploadBodyBytes { get; set; } = 64L * 1024 * 1024;

    [Description("Seed of the random choices (faults, FailureProbability); unset means a new seed each start.")]
    public int? FaultSeed { get; set; }

    /// <summary>Injected faults, per endpoint group.</summary>
    public FaultOptions Faults { get; set; } = new();

    /// <summary>The first problem with these options, or null when they are usable.</summary>
    public string? Validate()
    {
        if (!(TimeScale > 0) || double.IsInfinity(TimeScale)) return "TimeScale must be a positive number.";
        if (Workers < 1) return "Workers must be at least 1.";
        if (QueueSeconds < 0 || ProcessingSeconds < 0 || RetentionSeconds < 0) return "QueueSeconds, ProcessingSeconds and RetentionSeconds must not be negative.";
        if (RequestsPerMinute < 0) return "RequestsPerMinute must not be negative.";
        if (OutputPaddingBytes < 0) return "OutputPaddingBytes must not be negative.";
        if (UploadUrlsField is not ("file_urls" or "urls")) return "UploadUrlsField must be file_urls or urls.";
        return null;
    }
}

/// <summary>Where a job's retention window starts.</summary>
public enum RetentionStart
{
    /// <summary>At submission: a job that takes longer than the window is gone when it ends (Segmind's documented rule).</summary>
    Submission,

    /// <summary>At completion (or failure).</summary>
    Completion,
}

/// <summary>The endpoint groups that are counted and can be faulted separately.</summary>
public enum EndpointGroup
{
    Submit,
    Status,
    Result,
    Sync,
    Credits,
    Upload,
    Output,
    Asset,
}

/// <summary>
/// Fault profiles per endpoint group. <see cref="All"/> applies to every group: for each kind of fault the
/// group's own settings win when the group enables that kind, otherwise <see cref="All"/>'s apply.
/// </summary>
public sealed class FaultOptions
{
    public FaultProfile All { get; set; } = new();
    public FaultProfile Submit { get; set; } = new();
    public FaultProfile Status { get; set; } = new();
    public FaultProfile Result { get; set; } = new();
    public FaultProfile Sync { get; set; } = new();
    public FaultProfile Credits { get; set; } = new();
    public FaultProfile Upload { get; set; } = new();
    public FaultProfile Output { get; set; } = new();
    public FaultProfile Asset { get; set; } = new();

    public FaultProfile For(EndpointGroup group) => group switch
    {
        EndpointGroup.Submit => Submit,
        EndpointGroup.Status => Status,
        EndpointGroup.Result => Result,
        EndpointGroup.Sync => Sync,
        EndpointGroup.Credits => Credits,
        EndpointGroup.Upload => Upload,
        EndpointGroup.Output => Output,
        EndpointGroup.Asset => Asset,
        _ => throw new ArgumentOutOfRangeException(nameof(group)),
    };

    /// <summary>Turns every fault off, in every group.</summary>
    public void Clear()
    {
        All = new();
        Submit = new();
        Status = new();
        Result = new();
        Sync = new();
        Credits = new();
        Upload = new();
        Output = new();
        Asset = new();
    }
}

/// <summary>How often one endpoint group misbehaves, and how.</summary>
public sealed class FaultProfile
{
    [Description("Chance of an injected 429 (with Retry-After).")]
    public double RateLimitFaultProbability { get; set; }

    [Description("Retry-After of an injected 429, in real seconds.")]
    public int RateLimitRetryAfterSeconds { get; set; } = 1;

    [Description("How an injected 429 tells when to retry: Seconds, HttpDate, ResetHeaderOnly or None.")]
    public RetryAfterStyle RateLimitRetryAfterStyle { get; set; } = RetryAfterStyle.Seconds;

    [Description("Chance of an injected 500, 502, 503 or 504 (code chosen at random).")]
    public double ServerErrorProbability { get; set; }

    [Description("Chance the connection is dropped without an answer.")]
    public double DropConnectionProbability { get; set; }

    [Description("Share of the drops that happen after the request was handled (a submit was accepted and charged).")]
    public double DropAfterAcceptProbability { get; set; } = 0.5;

    [Description("Chance the answer is delayed.")]
    public double SlowResponseProbability { get; set; }

    [Description("Delay of a slow answer, in real seconds.")]
    public double SlowResponseSeconds { get; set; } = 2;
}

/// <summary>The ways servers say when to retry after a 429; clients must cope with each.</summary>
public enum RetryAfterStyle
{
    /// <summary><c>Retry-After: 7</c> plus <c>x-rate-limit-reset-at-utc</c>.</summary>
    Seconds,

    /// <summary><c>Retry-After: &lt;HTTP-date&gt;</c> plus <c>x-rate-limit-reset-at-utc</c>.</summary>
    HttpDate,

    /// <summary>Only <c>x-rate-limit-reset-at-utc</c>.</summary>
    ResetHeaderOnly,

    /// <summary>No hint at all.</summary>
    None,
}
