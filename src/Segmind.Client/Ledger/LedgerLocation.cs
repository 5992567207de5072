using System;
using System.IO;
using System.Runtime.InteropServices;

namespace Segmind.Client
{
    /// <summary>
    /// Where the per-user submit ledger lives: <c>$env:SEGMIND_LEDGER_PATH</c> when set (a file, or a folder that then
    /// holds <c>ledger.jsonl</c>); otherwise <c>%LOCALAPPDATA%\Segmind\ledger.jsonl</c> on Windows and
    /// <c>$XDG_DATA_HOME/segmind/ledger.jsonl</c> (default <c>~/.local/share</c>) elsewhere.
    /// <c>$env:SEGMIND_LEDGER = 'off'</c> turns the ledger off.
    /// </summary>
    public static class LedgerLocation
    {
        public const string PathEnvironmentVariable = "SEGMIND_LEDGER_PATH";
        public const string SwitchEnvironmentVariable = "SEGMIND_LEDGER";
        public const string FileName = "ledger.jsonl";

        /// <summary>True unless <c>SEGMIND_LEDGER</c> is off, 0, false, no or none.</summary>
        public static bool Enabled
        {
            get
            {
                var value = Environment.GetEnvironmentVariable(SwitchEnvironmentVariable)?.Trim();
                return !(string.Equals(value, "off", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(value, "0", StringComparison.Ordinal)
                    || string.Equals(value, "false", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(value, "no", StringComparison.OrdinalIgnoreCase)
                    || string.Equals(value, "none", StringComparison.OrdinalIgnoreCase));
            }
        }

        /// <summary>The ledger file's full path, or null when the ledger is off or no per-user folder exists.</summary>
        public static string? Resolve()
        {
            if (!Enabled)
            {
                return null;
            }

            var given = Environment.GetEnvironmentVariable(PathEnvironmentVariable);
            if (!string.IsNullOrWhiteSpace(given))
            {
                var full = Path.GetFullPath(given!.Trim());
                var isFolder = Directory.Exists(full) || given.EndsWith("/", StringComparison.Ordinal) || given.EndsWith("\\", StringComparison.Ordinal);
                return isFolder ? Path.Combine(full, FileName) : full;
            }

            string? root;
            string folder;
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                root = Environment.GetEnvironmentVariable("LOCALAPPDATA");
                if (string.IsNullOrWhiteSpace(root))
                {
                    root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
                }

                folder = "Segmind";
            }
            else
            {
                root = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
                if (string.IsNullOrWhiteSpace(root) || !Path.IsPathRooted(root))
                {
                    var home = Environment.GetEnvironmentVariable("HOME");
                    root = string.IsNullOrWhiteSpace(home) ? null : Path.Combine(home, ".local", "share");
                }

                folder = "segmind";
            }

            return string.IsNullOrWhiteSpace(root) ? null : Path.Combine(root!, folder, FileName);
        }
    }
}
