using System;
using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Segmind.Client
{
    /// <summary>
    /// The process-wide job pollers, one per account (key fingerprint) and API address (scheme, host and port), so
    /// every <see cref="SegmindClient.WaitAsync"/> of the process (every cmdlet, runspace and piped job) waits in one
    /// time-ordered queue with one timer: polls spread over time instead of one loop per job, and memory stays flat
    /// however many jobs are waited for.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Whose settings.</b> A shared poller only decides <i>when</i> each job is polled. Each job is read through
    /// the client that waits for it, so its key, retries, request timeout and request gate are that caller's, and
    /// its <see cref="PollSchedule"/> and timeout travel with the job. Callers with different settings therefore share
    /// one poller without one's options leaking into another's jobs, and the poller keeps a client only while a
    /// wait of that client is in progress. Its own settings are the <see cref="JobPollerOptions"/> defaults.
    /// </para>
    /// <para>
    /// <b>Lifetime.</b> A poller is created on first use and lives as long as the process, like the request gates:
    /// idle, it is one empty queue and one unarmed timer. Nobody outside this class can dispose it.
    /// </para>
    /// </remarks>
    public static class JobPollerRegistry
    {
        private static readonly ConcurrentDictionary<string, Lazy<JobPoller>> Pollers = new ConcurrentDictionary<string, Lazy<JobPoller>>(StringComparer.Ordinal);

        // Pollers of clients on another clock (a scaled or fake one), kept apart from real-time ones and gone with their clock.
        private static readonly ConditionalWeakTable<TimeProvider, ConcurrentDictionary<string, Lazy<JobPoller>>> OtherClocks = new ConditionalWeakTable<TimeProvider, ConcurrentDictionary<string, Lazy<JobPoller>>>();

        /// <summary>Jobs the shared poller of this key and base address follows now (0 when it has none yet).</summary>
        public static int TrackedCount(ApiKey key, Uri baseUri)
        {
            var name = RequestGateRegistry.GateName(key, baseUri);
            return Pollers.TryGetValue(name, out var poller) && poller.IsValueCreated ? poller.Value.TrackedCount : 0;
        }

        /// <summary>The shared poller for this key and base address, created on first use.</summary>
        internal static JobPoller Shared(ApiKey key, Uri baseUri, TimeProvider? time = null)
        {
            var name = RequestGateRegistry.GateName(key, baseUri);
            var clock = time ?? TimeProvider.System;
            var pollers = ReferenceEquals(clock, TimeProvider.System)
                ? Pollers
                : OtherClocks.GetValue(clock, _ => new ConcurrentDictionary<string, Lazy<JobPoller>>(StringComparer.Ordinal));

            // Lazy: GetOrAdd may run its factory twice under a race, and a losing poller would still own a timer.
            return pollers.GetOrAdd(
                name,
                _ => new Lazy<JobPoller>(() => new JobPoller(options: null, clock), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
        }
    }
}
