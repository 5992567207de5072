using System.Management.Automation;
using Segmind.Client;

namespace Segmind.WanAnimate.Pipeline
{
    /// <summary>
    /// What the cmdlets that work through many jobs share: the account's request budget (-ThrottleLimit,
    /// -RequestsPerMinute) and running in the background (-AsJob).
    /// </summary>
    public abstract class BatchCmdletBase : SegmindCmdletBase
    {
        /// <summary>
        /// Requests in flight for this account (submits, polls and downloads share it); applies only when given. Each
        /// cmdlet's help says what else it bounds (submits or downloads at once).
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public int ThrottleLimit { get; set; } = 4;

        /// <summary>Requests a minute for this account, 0 meaning unlimited; applies only when given.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int RequestsPerMinute { get; set; }

        [Parameter]
        public SwitchParameter AsJob { get; set; }

        protected override bool RunAsJob => AsJob.IsPresent;

        /// <summary>
        /// Sets the account's shared request budget from -ThrottleLimit and -RequestsPerMinute, each only when given,
        /// so an explicit value of one cmdlet is not undone by the defaults of the next.
        /// </summary>
        internal void ConfigurePacing(SegmindClientOptions options)
        {
            var bound = MyInvocation.BoundParameters;
            int? limit = bound.ContainsKey(nameof(ThrottleLimit)) ? ThrottleLimit : (int?)null;
            double? rate = bound.ContainsKey(nameof(RequestsPerMinute)) ? RequestsPerMinute : (double?)null;
            if (options.ApiKey != null && (limit.HasValue || rate.HasValue))
            {
                RequestGateRegistry.Configure(options.ApiKey, options.BaseUri, limit, rate);
            }
        }
    }
}
