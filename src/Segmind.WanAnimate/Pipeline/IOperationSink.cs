using System;
using System.Management.Automation;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// Where a cmdlet's asynchronous work sends what it produces. The same work runs either pumped back to the
    /// pipeline thread (the only thread allowed to write to the pipeline) or inside an -AsJob job.
    /// Every member is safe to call from any thread.
    /// </summary>
    internal interface IOperationSink
    {
        void WriteObject(object value);

        /// <summary>Writes <paramref name="value"/>, then calls <paramref name="written"/> once it has really reached the pipeline (never, if it did not).</summary>
        void WriteObject(object value, Action written);

        void WriteError(ErrorRecord error);

        void WriteProgress(ProgressRecord progress);

        void WriteVerbose(string message);

        void WriteWarning(string message);

        void WriteDebug(string message);

        /// <summary>A one-line summary of where the work stands (shown as a job's StatusMessage).</summary>
        void SetStatus(string message);

        /// <summary>False only when verbose messages are certainly discarded, so per-item messages need not be formatted.</summary>
        bool VerboseWanted { get; }

        /// <summary>False when <see cref="SetStatus"/> discards its message, so per-item summaries need not be formatted.</summary>
        bool StatusWanted { get; }
    }
}
