using System;
using System.Management.Automation;
using Segmind.Client;
using Segmind.WanAnimate.Binding;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Journal;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>Checks the status of jobs once. FAILED is reported as data (Status and Error), not as an error.</summary>
    [Cmdlet(VerbsCommon.Get, "WanAnimateStatus")]
    [OutputType(typeof(WanAnimateStatus))]
    public sealed class GetWanAnimateStatusCommand : BatchCmdletBase
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("request_id", "Id")]
        [ValidateNotNullOrEmpty]
        public string[] RequestId { get; set; } = Array.Empty<string>();

        /// <summary>The status address from the submit answer; fetched exactly as given.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [Alias("status_url")]
        [AllowNull]
        [AllowEmptyString]
        public string? StatusUrl { get; set; }

        /// <summary>The piped object itself, so errors can point at it.</summary>
        [Parameter(ValueFromPipeline = true, DontShow = true)]
        public PSObject? InputObject { get; set; }

        internal override void ConfigureClient(SegmindClientOptions options) => ConfigurePacing(options);

        protected override void ProcessInput()
        {
            var statusUrl = RequestId.Length == 1 ? JobAddress.Parse(StatusUrl) : null;
            foreach (var id in RequestId)
            {
                if (string.IsNullOrWhiteSpace(id))
                {
                    continue;
                }

                var reference = new JobReference(id, statusUrl);
                object target = JobAddress.TargetOf(InputObject, id);
                Dispatch(async (sink, cancellation) =>
                {
                    try
                    {
                        var status = await Client.GetStatusAsync(reference, cancellation).ConfigureAwait(false);
                        sink.WriteObject(ModelFactory.ToStatus(status));
                    }
                    catch (SegmindException ex)
                    {
                        if (ex is SegmindNotFoundException)
                        {
                            LedgerAccess.RecordExpired(sink, reference.RequestId);
                        }

                        sink.WriteError(ErrorRecordFactory.ToErrorRecord(ex, target));
                    }
                });
            }
        }
    }
}
