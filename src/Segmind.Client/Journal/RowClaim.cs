using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Segmind.Client
{
    /// <summary>
    /// Who holds a journal row while it is being submitted: a <c>claimed</c> record names the owner (a random id per
    /// submitter), its process id, that process's start time and its machine. A claim by a live owner is respected by
    /// every other run; one left by a dead owner (the process is gone, or its pid now belongs to another process, or
    /// the owner in this process has ended) is void, and the row may be claimed again.
    /// </summary>
    /// <remarks>
    /// A claim from another machine (a journal on a shared folder) cannot be checked, so it is respected for
    /// <see cref="ForeignClaimLifetime"/> after it was written.
    /// </remarks>
    public sealed class RowClaim
    {
        /// <summary>How long a claim written on another machine is respected.</summary>
        public static readonly TimeSpan ForeignClaimLifetime = TimeSpan.FromHours(24);

        // Owners alive in this process (submitters not yet disposed).
        private static readonly ConcurrentDictionary<string, byte> LiveOwners = new ConcurrentDictionary<string, byte>(StringComparer.Ordinal);

        private static readonly Lazy<DateTimeOffset?> CurrentStart = new Lazy<DateTimeOffset?>(() => StartTimeOf(Process.GetCurrentProcess()));

        public RowClaim(string owner, int processId, DateTimeOffset? processStartedAt, string machine, DateTimeOffset? claimedAt)
        {
            Owner = owner ?? string.Empty;
            ProcessId = processId;
            ProcessStartedAt = processStartedAt;
            Machine = machine ?? string.Empty;
            ClaimedAt = claimedAt;
        }

        public string Owner { get; }

        public int ProcessId { get; }

        public DateTimeOffset? ProcessStartedAt { get; }

        public string Machine { get; }

        public DateTimeOffset? ClaimedAt { get; }

        /// <summary>A new owner in this process, alive until <see cref="EndOwner"/>.</summary>
        public static RowClaim NewOwner()
        {
            var owner = Guid.NewGuid().ToString("N");
            LiveOwners[owner] = 0;
            return new RowClaim(owner, CurrentProcessId, CurrentStart.Value, Environment.MachineName, null);
        }

        /// <summary>The owner is done: its claims that were never resolved become void.</summary>
        public static void EndOwner(RowClaim claim) => LiveOwners.TryRemove(claim.Owner, out _);

        /// <summary>True while the claim's owner may still send the row: it must not be claimed by anyone else.</summary>
        public bool IsHeldByLiveOwner(DateTimeOffset now)
        {
            if (!string.Equals(Machine, Environment.MachineName, StringComparison.OrdinalIgnoreCase))
            {
                return ClaimedAt is null || now - ClaimedAt.Value < ForeignClaimLifetime;
            }

            if (ProcessId == CurrentProcessId && SameStart(ProcessStartedAt, CurrentStart.Value))
            {
                return LiveOwners.ContainsKey(Owner);
            }

            try
            {
                using (var process = Process.GetProcessById(ProcessId))
                {
                    if (process.HasExited)
                    {
                        return false;
                    }

                    // The pid may have been reused by an unrelated process since: then the claimant is gone.
                    var started = StartTimeOf(process);
                    return started is null || SameStart(ProcessStartedAt, started);
                }
            }
            catch (ArgumentException)
            {
                // No process with that id.
                return false;
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception || ex is NotSupportedException)
            {
                // Cannot tell: respect the claim rather than risk a second submit.
                return true;
            }
        }

        public override string ToString() => string.Format(
            CultureInfo.InvariantCulture, "process {0} on {1}{2}", ProcessId, Machine, ClaimedAt is DateTimeOffset at ? " since " + at.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) : string.Empty);

        private static int CurrentProcessId { get; } = Process.GetCurrentProcess().Id;

        private static bool SameStart(DateTimeOffset? claimed, DateTimeOffset? actual) =>
            claimed is null || actual is null || Math.Abs((claimed.Value - actual.Value).TotalSeconds) < 2;

        private static DateTimeOffset? StartTimeOf(Process process)
        {
            try
            {
                return new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception || ex is NotSupportedException)
            {
                return null;
            }
        }
    }
}
