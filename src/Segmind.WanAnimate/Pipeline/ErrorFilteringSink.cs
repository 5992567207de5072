using System;
using System.Management.Automation;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// A sink that drops the errors its filter takes (as <see cref="PipelinePump.ErrorFilter"/> does on the pipeline):
    /// what an -AsJob job's work writes to, so the job reports a batch stop once instead of once per row.
    /// </summary>
    internal sealed class ErrorFilteringSink : IOperationSink
    {
        private readonly IOperationSink _inner;
        private readonly Func<ErrorRecord, bool> _absorbs;

        public ErrorFilteringSink(IOperationSink inner, Func<ErrorRecord, bool> absorbs)
        {
            _inner = inner;
            _absorbs = absorbs;
        }

        public bool VerboseWanted => _inner.VerboseWanted;

        public bool StatusWanted => _inner.StatusWanted;

        public void WriteError(ErrorRecord error)
        {
            if (!_absorbs(error))
            {
                _inner.WriteError(error);
            }
        }

        public void WriteObject(object value) => _inner.WriteObject(value);

        public void WriteObject(object value, Action written) => _inner.WriteObject(value, written);

        public void WriteProgress(ProgressRecord progress) => _inner.WriteProgress(progress);

        public void WriteVerbose(string message) => _inner.WriteVerbose(message);

        public void WriteWarning(string message) => _inner.WriteWarning(message);

        public void WriteDebug(string message) => _inner.WriteDebug(message);

        public void SetStatus(string message) => _inner.SetStatus(message);
    }
}
