using System;
using System.Diagnostics;
using System.Globalization;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// One open table journal's presence: an entity in the <c>holder</c> partition, written when the journal opens,
    /// touched every <see cref="TableJournalOptions.HeartbeatInterval"/> and marked ended when it closes. A row
    /// claim whose holder ended, stopped beating for a whole lease, or (on this machine) whose process is gone, is
    /// void: nothing was sent for it, so another run may claim the row.
    /// </summary>
    internal static class TableJournalHolder
    {
        private static readonly Lazy<DateTimeOffset?> CurrentStart = new Lazy<DateTimeOffset?>(() => StartTimeOf(Process.GetCurrentProcess()));

        /// <summary>The holder entity; <paramref name="lease"/> is how long after a beat its claims stand (the holder promises to beat sooner).</summary>
        public static TableEntity Describe(string holderId, bool ended, TimeSpan lease)
        {
            var entity = new TableEntity(TableJournalKeys.HolderPartition, holderId)
            {
                ["Machine"] = Environment.MachineName,
                ["ProcessId"] = CurrentProcessId,
                ["Ended"] = ended,
                ["LeaseMilliseconds"] = (long)lease.TotalMilliseconds,
            };
            if (CurrentStart.Value is DateTimeOffset started)
            {
                entity["ProcessStartedAt"] = started;
            }

            return entity;
        }

        /// <summary>True while the holder may still send what it claimed: it has not ended, beats, and its process lives.</summary>
        public static bool IsAlive(TableEntity? holder, DateTimeOffset serverNow, TimeSpan defaultLease)
        {
            if (holder is null || holder["Ended"] is true)
            {
                return false;
            }

            var lease = holder.GetInt64("LeaseMilliseconds") is long declared && declared > 0 ? TimeSpan.FromMilliseconds(declared) : defaultLease;

            var beat = holder.GetDateTime("Timestamp");
            if (beat is null || serverNow - beat.Value > lease)
            {
                return false;
            }

            if (!string.Equals(holder.GetString("Machine"), Environment.MachineName, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            var pid = holder.GetInt64("ProcessId");
            if (pid is null)
            {
                return true;
            }

            if (pid.Value == CurrentProcessId)
            {
                return true;
            }

            try
            {
                using (var process = Process.GetProcessById((int)pid.Value))
                {
                    if (process.HasExited)
                    {
                        return false;
                    }

                    // The pid may have been reused by an unrelated process since: then the holder is gone.
                    var started = StartTimeOf(process);
                    var claimed = holder.GetDateTime("ProcessStartedAt");
                    return started is null || claimed is null || Math.Abs((started.Value - claimed.Value).TotalSeconds) < 2;
                }
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (Exception ex) when (ex is InvalidOperationException || ex is System.ComponentModel.Win32Exception || ex is NotSupportedException)
            {
                // Cannot tell: respect the claim rather than risk a second submit.
                return true;
            }
        }

        public static string Name(TableEntity? holder) => holder is null
            ? "a run that has ended"
            : string.Format(CultureInfo.InvariantCulture, "process {0} on {1}", holder.GetInt64("ProcessId"), holder.GetString("Machine"));

        private static int CurrentProcessId { get; } = Process.GetCurrentProcess().Id;

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

    /// <summary>Timings of a table journal's holder heartbeat.</summary>
    internal sealed class TableJournalOptions
    {
        /// <summary>How often an open journal touches its holder entity.</summary>
        public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(20);

        /// <summary>How long after its last beat this holder's claims are respected (written into its holder entity; judged on the service's clock).</summary>
        public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

        /// <summary>How long one journal operation (with its retries) may take before it fails.</summary>
        public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMinutes(2);
    }
}
