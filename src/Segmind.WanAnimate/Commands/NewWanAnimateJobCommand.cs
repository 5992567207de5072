using System.Management.Automation;
using System.Threading.Tasks;
using Segmind.WanAnimate.Infrastructure;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Submits Wan Animate jobs, one per input (parameters or piped CSV rows), up to ThrottleLimit at a time, and
    /// writes each job the moment Segmind accepts it. Every submit is a paid job and is never re-sent.
    /// </summary>
    [Cmdlet(VerbsCommon.New, "WanAnimateJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(WanAnimateJob))]
    public sealed class NewWanAnimateJobCommand : WanAnimateInputCmdletBase
    {
        [Parameter]
        public SwitchParameter AsJob { get; set; }

        protected override bool RunAsJob => AsJob.IsPresent;

        protected override void ProcessInput()
        {
            if (!TryPrepareRow(out var row))
            {
                return;
            }

            var plan = PlanRow(row, out var journaled);
            if (plan == RowPlan.Skip)
            {
                return;
            }

            if (plan == RowPlan.Resume)
            {
                // Already submitted: hand the recorded job on, so a following Wait-WanAnimateJob resumes on it.
                var known = RebuildJob(row, journaled!);
                Dispatch((sink, cancellation) =>
                {
                    sink.WriteObject(known);
                    return Task.CompletedTask;
                });
                return;
            }

            if (!ShouldProcess(row.Description, "Submit a paid Wan Animate job"))
            {
                return;
            }

            if (plan == RowPlan.ReleaseAndSubmit && !ReleaseRow(row))
            {
                return;
            }

            Dispatch(async (sink, cancellation) =>
            {
                var job = await SubmitAsync(row, sink, cancellation).ConfigureAwait(false);
                if (job != null)
                {
                    sink.WriteObject(job);
                }
            });
        }
    }
}
