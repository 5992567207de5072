using System;

namespace Segmind.Client
{
    /// <summary>
    /// Hears the stages of one submit inside <see cref="SegmindClient.SubmitAsync(WanAnimateRequest, ISubmitStages, System.Threading.CancellationToken)"/>,
    /// in the manner of an HTTP pipeline's sending/sent hooks: uploads and the wait for a request slot come first
    /// (nothing sent yet), then each attempt of the POST.
    /// </summary>
    public interface ISubmitStages
    {
        /// <summary>
        /// Called once per attempt, with the request slot in hand, right before the POST goes on the wire: from here on
        /// the job may exist. Throwing sends nothing. The result is disposed when the attempt is over (answered or failed).
        /// </summary>
        IDisposable? BeginSending();

        /// <summary>
        /// The attempt provably did not reach the server (a 429, a refused connection): no job was created, and the
        /// submit goes back to waiting before it is retried (or the error is thrown).
        /// </summary>
        void NotSent(SegmindException reason);
    }
}
