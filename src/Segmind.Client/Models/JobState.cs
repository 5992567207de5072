namespace Segmind.Client
{
    /// <summary>The job states Segmind reports. They are upper-case and exact; only COMPLETED and FAILED end a wait.</summary>
    public static class JobState
    {
        public const string Queued = "QUEUED";
        public const string Processing = "PROCESSING";
        public const string Completed = "COMPLETED";
        public const string Failed = "FAILED";

        public static bool IsTerminal(string? state) => state == Completed || state == Failed;
    }
}
