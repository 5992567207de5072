using System;

namespace Segmind.Client
{
    /// <summary><c>GET /v1/get-user-credits</c>.</summary>
    public sealed class CreditBalance
    {
        public CreditBalance(double credits, double freeCredits, DateTimeOffset checkedAt)
        {
            Credits = credits;
            FreeCredits = freeCredits;
            CheckedAt = checkedAt;
        }

        public double Credits { get; }
        public double FreeCredits { get; }
        public DateTimeOffset CheckedAt { get; }
    }

    /// <summary>The outcome of a blocking v1 run, saved to a file.</summary>
    public sealed class SyncRunResult
    {
        public SyncRunResult(string? requestId, string outputPath, long length, string? contentType, double? cost, double? remainingCredits, double? generationTime, long? seed)
        {
            RequestId = requestId;
            OutputPath = outputPath;
            Length = length;
            ContentType = contentType;
            Cost = cost;
            RemainingCredits = remainingCredits;
            GenerationTime = generationTime;
            Seed = seed;
        }

        public string? RequestId { get; }
        public string OutputPath { get; }
        public long Length { get; }
        public string? ContentType { get; }
        public double? Cost { get; }
        public double? RemainingCredits { get; }
        public double? GenerationTime { get; }
        public long? Seed { get; }
    }

    /// <summary>An output written to disk.</summary>
    public sealed class DownloadedOutput
    {
        public DownloadedOutput(string path, long length, bool skipped)
        {
            Path = path;
            Length = length;
            Skipped = skipped;
        }

        public string Path { get; }
        public long Length { get; }

        /// <summary>True when a complete file was already there and nothing was downloaded.</summary>
        public bool Skipped { get; }
    }
}
