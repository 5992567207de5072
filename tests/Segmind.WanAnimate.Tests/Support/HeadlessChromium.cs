using System.Diagnostics;

namespace Segmind.WanAnimate.Tests.Support;

/// <summary>
/// The real browser for the gallery tests: Debian's <c>chromium</c>, headless, with a fresh profile per run and
/// nothing that calls home. <c>.ci/run</c> installs it; without it a test is skipped locally and fails in CI.
/// </summary>
public static class HeadlessChromium
{
    private static readonly Lazy<string?> Executable = new(Find);

    /// <summary>The browser's path, or null when none is installed.</summary>
    public static string? Path => Executable.Value;

    /// <summary>True when tests run in CI (CI=true), where a missing browser is a failure, not a skip.</summary>
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The DOM after the page's scripts ran, serialised.</summary>
    public static string DumpDom(string page, string fragment = "") => Run(page + fragment, "--dump-dom", captureOutput: true);

    /// <summary>Writes a PNG of the page at the given window size.</summary>
    public static void Screenshot(string page, string png, int width = 1280, int height = 900)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(png)!);
        File.Delete(png);
        Run(page, "--screenshot=" + png + " --window-size=" + width + "," + height, captureOutput: false);
        Assert.True(File.Exists(png) && new FileInfo(png).Length > 0, "Chromium wrote no screenshot at " + png);
    }

    private static string Run(string page, string what, bool captureOutput)
    {
        var browser = Path ?? throw new InvalidOperationException(
            "chromium is not installed: the gallery tests need it (`apt-get install -y chromium`; .ci/run installs it).");
        var profile = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gallery-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        try
        {
            var start = new ProcessStartInfo(browser)
            {
                Arguments = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
                    + "--disable-component-update --disable-sync --disable-default-apps --mute-audio --hide-scrollbars "
                    + "--user-data-dir=\"" + profile + "\" " + what + " \"" + FileUrl(page) + "\"",
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();

            // A generous bound for a loaded machine; a hung browser fails the test instead of hanging it.
            if (!process.WaitForExit(180_000))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException("chromium did not finish within 3 minutes: " + start.Arguments);
            }

            process.WaitForExit();
            Assert.True(process.ExitCode == 0, "chromium exited with " + process.ExitCode + ": " + errors.Result);
            return captureOutput ? output.Result : string.Empty;
        }
        finally
        {
            try
            {
                Directory.Delete(profile, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    // The fragment (#...) is the page's, not part of the file name.
    private static string FileUrl(string page)
    {
        var hash = page.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? new Uri(page).AbsoluteUri : new Uri(page.Substring(0, hash)).AbsoluteUri + page.Substring(hash);
    }

    private static string? Find()
    {
        var pathVariable = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in pathVariable.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in new[] { "chromium", "chromium-browser" })
            {
                var candidate = System.IO.Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }
}

/// <summary>
/// A fact that needs headless Chromium: skipped (and says why) on a machine without it, but never in CI, where the
/// missing browser makes the test fail loudly.
/// </summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (HeadlessChromium.Path is null && !HeadlessChromium.InCi)
        {
            Skip = "chromium is not installed (apt-get install -y chromium); in CI (CI=true) this test fails instead.";
        }
    }
}
