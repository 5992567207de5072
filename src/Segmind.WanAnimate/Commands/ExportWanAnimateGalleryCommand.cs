using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using Segmind.Client;
using Segmind.Client.Gallery;
using Segmind.Client.TableStorage;
using Segmind.WanAnimate.Binding;
using Segmind.WanAnimate.Errors;
using Segmind.WanAnimate.Output;
using Segmind.WanAnimate.Pipeline;

namespace Segmind.WanAnimate.Commands
{
    /// <summary>
    /// Writes a batch's results as one self-contained HTML page next to the saved videos: a summary, and one card per
    /// row with its inputs, video, status and cost. The rendering lives in the core (Segmind.Client.Gallery).
    /// </summary>
    [Cmdlet(VerbsData.Export, "WanAnimateGallery", SupportsShouldProcess = true, DefaultParameterSetName = PipelineSet)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportWanAnimateGalleryCommand : PSCmdlet
    {
        private const string PipelineSet = "InputObject";
        private const string JournalSet = "Journal";
        private const string DefaultFileName = "gallery.html";

        private readonly List<GalleryItem> _records = new List<GalleryItem>();

        /// <summary>Results, jobs, or error records of a batch (anything with RequestId or RowId).</summary>
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = PipelineSet)]
        [AllowNull]
        public PSObject?[]? InputObject { get; set; }

        /// <summary>A batch journal to show every row of (read only).</summary>
        [Parameter(Mandatory = true, ParameterSetName = JournalSet)]
        [ValidateNotNullOrEmpty]
        public string? JournalPath { get; set; }

        /// <summary>
        /// For a -JournalPath that is an Azure table address: a SAS token (read rights suffice) or connection string.
        /// Falls back to $env:SEGMIND_JOURNAL_SAS, then $env:SEGMIND_JOURNAL_CONNECTION_STRING.
        /// </summary>
        [Parameter(ParameterSetName = JournalSet)]
        [SecureStringTransformation]
        public SecureString? JournalCredential { get; set; }

        /// <summary>The page to write; by default gallery.html in the folder of the first saved video.</summary>
        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        /// <summary>The page's title and heading.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Title { get; set; } = "Wan Animate batch";

        /// <summary>Opens the page in the default browser, only in an interactive session.</summary>
        [Parameter]
        public SwitchParameter Open { get; set; }

        protected override void ProcessRecord()
        {
            if (InputObject is null)
            {
                return;
            }

            foreach (var input in InputObject)
            {
                var item = GalleryRecords.FromObject(input, ResolvePath);
                if (item is null)
                {
                    if (input != null)
                    {
                        WriteWarning("Skipped an input with neither a RequestId nor a RowId: " + input.BaseObject.GetType().Name + ".");
                    }

                    continue;
                }

                _records.Add(item);
            }
        }

        protected override void EndProcessing()
        {
            string? journal = null;
            if (ParameterSetName == JournalSet && BatchJournal.IsTableAddress(JournalPath))
            {
                ReadJournalTable();
            }
            else if (ParameterSetName == JournalSet)
            {
                journal = ResolvePath(JournalPath!);
                try
                {
                    _records.AddRange(GalleryJournal.Read(journal));
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    ThrowTerminatingError(new ErrorRecord(ex, ErrorRecordFactory.Prefix + ErrorRecordFactory.FileErrorId, ErrorCategory.ReadError, JournalPath)
                    {
                        ErrorDetails = new ErrorDetails("Cannot read the journal '" + journal + "': " + ex.Message),
                    });
                }
            }

            var page = Path != null ? ResolvePath(Path) : DefaultPage(journal);
            if (!ShouldProcess(page, "Write the batch gallery (" + _records.Count + " records)"))
            {
                return;
            }

            try
            {
                var rows = GalleryPage.Write(page, _records, new GalleryOptions { Title = Title });
                VerboseLines.Write(this, "Wrote " + rows.Count + " row(s) to " + page + ".");
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is ArgumentException)
            {
                ThrowTerminatingError(new ErrorRecord(ex, ErrorRecordFactory.Prefix + ErrorRecordFactory.FileErrorId, ErrorCategory.WriteError, page)
                {
                    ErrorDetails = new ErrorDetails("Cannot write the gallery '" + page + "': " + ex.Message),
                });
            }

            // Through the provider, so the FileInfo carries the properties PowerShell's file views use.
            WriteObject(SessionState.InvokeProvider.Item.Get(new[] { page }, true, true), enumerateCollection: true);
            if (Open.IsPresent)
            {
                OpenInBrowser(page);
            }
        }

        /// <summary>gallery.html beside the first saved video, else beside the journal, else in the current folder.</summary>
        private string DefaultPage(string? journal)
        {
            var saved = _records.Select(r => r.OutputFile).FirstOrDefault(f => !string.IsNullOrEmpty(f) && System.IO.Path.IsPathRooted(f));
            var folder = saved != null ? System.IO.Path.GetDirectoryName(saved)
                : journal != null ? System.IO.Path.GetDirectoryName(journal)
                : SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            return System.IO.Path.Combine(folder ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath, DefaultFileName);
        }

        /// <summary>A journal kept in an Azure table: opened for reading only (nothing is written to it).</summary>
        private void ReadJournalTable()
        {
            try
            {
                TableCredential? credential = null;
                if (JournalCredential != null && JournalCredential.Length > 0)
                {
                    credential = TableCredential.Parse(new NetworkCredential(string.Empty, JournalCredential).Password, "JournalCredential");
                }

                using (var table = BatchJournal.OpenForReading(JournalPath!, credential))
                {
                    _records.AddRange(GalleryJournal.Read(table));
                }
            }
            catch (SegmindException ex)
            {
                ThrowTerminatingError(ErrorRecordFactory.ToErrorRecord(ex, JournalPath));
            }
        }

        private string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

        private void OpenInBrowser(string page)
        {
            var reason = NonInteractiveReason(Host.Name);
            if (reason != null)
            {
                WriteWarning("-Open ignored: " + reason + ". The gallery is at " + page + ".");
                return;
            }

            try
            {
                var start = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? new ProcessStartInfo(page) { UseShellExecute = true }
                    : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? new ProcessStartInfo("open") { UseShellExecute = false }
                    : new ProcessStartInfo("xdg-open") { UseShellExecute = false };
                if (!start.UseShellExecute)
                {
                    start.Arguments = "\"" + page.Replace("\"", "\\\"") + "\"";
                }

                using var process = Process.Start(start);
            }
            catch (Exception ex) when (ex is System.ComponentModel.Win32Exception || ex is InvalidOperationException || ex is FileNotFoundException)
            {
                WriteWarning("Could not open a browser (" + ex.Message + "). The gallery is at " + page + ".");
            }
        }

        /// <summary>Why no browser may be opened here (a runbook, a job, -NonInteractive, no desktop), or null when it may.</summary>
        internal static string? NonInteractiveReason(string hostName)
        {
            if (!Environment.UserInteractive)
            {
                return "the session is not interactive";
            }

            foreach (var argument in Environment.GetCommandLineArgs().Skip(1))
            {
                var name = argument.TrimStart('-', '/');
                if (argument.Length > name.Length && name.Length >= 3 && "noninteractive".StartsWith(name, StringComparison.OrdinalIgnoreCase))
                {
                    return "PowerShell runs with -NonInteractive";
                }
            }

            // Runbooks, background jobs, remoting and hosted engines have no user in front of them.
            if (!string.Equals(hostName, "ConsoleHost", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(hostName, "Visual Studio Code Host", StringComparison.OrdinalIgnoreCase)
                && !string.Equals(hostName, "Windows PowerShell ISE Host", StringComparison.OrdinalIgnoreCase))
            {
                return "the host '" + hostName + "' is not an interactive console";
            }

            if (RuntimeInformation.IsOSPlatform(OSPlatform.Linux)
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY"))
                && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY")))
            {
                return "there is no desktop (neither DISPLAY nor WAYLAND_DISPLAY is set)";
            }

            return null;
        }
    }
}
