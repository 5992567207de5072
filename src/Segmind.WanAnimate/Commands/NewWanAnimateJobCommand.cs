using System.Management.Automation;
using System.Threading.Tasks;
using Segmind.WanAnimate.Pipeline;
using Segmind.WanAnimate.Submitting;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Submits Wan Animate jobs, one per input (parameters or piped CSV rows), up to ThrottleLimit at a time, and
    /// writes the jobs in input order, each as soon as every earlier row's job is written. Every submit is a paid job
    /// and is never re-sent.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "WanAnimateJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(WanAnimateJob))]
    public sealed class NewWanAnimateJobCommand : WanAnimateInputCmdletBase
    {
        private readonly InputOrder _order = new InputOrder();

        protected override void ProcessInput()
        {
            if (!TryPrepareRow(out var row))
            {
                return;
            }

            var plan = PlanRow(row, out var journaled);
            if (plan == RowPlan.Submit)
            {
                if (!ShouldProcess(row.Description, "Submit a paid Wan Animate job"))
                {
                    return;
                }

                plan = ClaimRow(row, out journaled);
            }

            if (plan == RowPlan.Skip)
            {
                return;
            }

            var slot = _order.Reserve();
            if (plan == RowPlan.Resume)
            {
                // Already submitted: hand the recorded job on, so a following Wait-WanAnimateJob resumes on it.
                var known = RebuildJob(row, journaled!);
                Dispatch((sink, cancellation) =>
                {
                    _order.Complete(slot, known, sink);
                    return Task.CompletedTask;
                });
                return;
            }

            Dispatch(async (sink, cancellation) =>
            {
                WanAnimateJob? job = null;
                try
                {
                    job = await SubmitAsync(row, sink, cancellation).ConfigureAwait(false);
                }
                finally
                {
                    // Every place in line is filled, job or not, so later rows are never held back.
                    _order.Complete(slot, job, sink, job == null ? null : PaidJobs.WhenWritten(job.RequestId));
                }
            });
        }
    }
}
