using System.Management.Automation;
using Segmind.Client;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>The account's credit balance.</summary>
    [Cmdlet(VerbsCommon.Get, "SegmindCredit")]
    [OutputType(typeof(SegmindCredit))]
    public sealed class GetSegmindCreditCommand : SegmindCmdletBase
    {
        protected override void ProcessInput()
        {
            Dispatch(async (sink, cancellation) =>
            {
                try
                {
                    var balance = await Client.GetCreditsAsync(cancellation).ConfigureAwait(false);
                    sink.WriteObject(ModelFactory.ToCredit(balance));
                }
                catch (SegmindException ex)
                {
                    sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, null));
                }
            });
        }
    }
}
