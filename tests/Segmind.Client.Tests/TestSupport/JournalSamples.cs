namespace Segmind.Client.Tests.TestSupport;

/// <summary>The inputs, submit answers and results journal tests record, whatever store keeps the journal.</summary>
public static class JournalSamples
{
    public const string InputVideo = "https://cdn.example.test/motion.mp4";

    public static WanAnimateRequest Request(string prompt = "a dancer", long seed = 42, string inputVideo = InputVideo) => new()
    {
        InputVideo = inputVideo,
        ReferenceImage = "https://cdn.example.test/hero.png",
        Prompt = prompt,
        Mode = "animation",
        Resolution = "720p",
        Seed = seed,
    };

    public static SubmittedJob Submitted(string requestId) => new(
        requestId,
        JobState.Queued,
        new Uri("https://api.example.test/v2/requests/" + requestId + "/status"),
        new Uri("https://api.example.test/v2/requests/" + requestId),
        null,
        new DateTimeOffset(2025, 3, 1, 12, 0, 0, TimeSpan.Zero));

    public static JobResult Completed(string requestId) => new(
        requestId,
        JobState.Completed,
        null,
        new Dictionary<string, object?> { ["inference_time"] = 401.5, ["cost"] = 0.75, ["gpu"] = "A100", ["stages"] = new List<object?> { 1L, "two" } },
        "https://cdn.example.test/out/" + requestId + ".mp4",
        DateTimeOffset.UtcNow);
}
