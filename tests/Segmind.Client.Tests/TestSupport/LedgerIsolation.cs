using System.Runtime.CompilerServices;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// Points the per-user submit ledger at a scratch folder for the whole test run (child processes inherit it), so no
/// test ever writes to the real user profile.
/// </summary>
public static class LedgerIsolation
{
    public static string Folder { get; } = Path.Combine(Path.GetTempPath(), "segmind-test-ledger-" + Environment.ProcessId);

    [ModuleInitializer]
    public static void Isolate()
    {
        Directory.CreateDirectory(Folder);
        Environment.SetEnvironmentVariable("SEGMIND_LEDGER_PATH", Path.Combine(Folder, "ledger.jsonl"));
        Environment.SetEnvironmentVariable("SEGMIND_LEDGER", null);
    }
}
