namespace Segmind.Client
{
    /// <summary>
    /// The destination holds a file that is not this job's saved output (no record of it, or the record of another
    /// job): it is left alone unless the caller allows replacing it.
    /// </summary>
    public sealed class SegmindOutputFileExistsException : SegmindException
    {
        public SegmindOutputFileExistsException(string message, string path, string? requestId)
            : base(message, requestId: requestId)
        {
            Path = path;
        }

        public string Path { get; }

        public override string ErrorId => "OutputFileExists";
    }
}
