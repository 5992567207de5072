using System.Collections;
using System.Management.Automation;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// The API key never shows: not in output objects, error records, any stream, background jobs or file names,
/// whatever path a cmdlet takes. The key is handed over through $PSDefaultParameterValues, never written into a
/// script, so an InvocationInfo line that contained it would be a real leak.
/// </summary>
public sealed class SecurityKeyTests : IClassFixture<EmulatorFixture>
{
    private const string SecretKey = "sk-wan-SECRET-4f1c9d2e-never-print";
    private const string WrongKey = "sk-wan-WRONG-8a7b6c5d-never-print";
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private const string OneRow = "-InputVideo https://media.example.com/sec.mp4 -ReferenceImage https://media.example.com/sec.png";

    private readonly EmulatorFixture _emulator;

    public SecurityKeyTests(EmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset(options => options.ApiKeys = new List<string> { EmulatorFixture.ApiKey, SecretKey });
    }

    [Fact]
    public void Every_cmdlet_keeps_the_key_out_of_objects_errors_streams_jobs_and_files()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession(SecretKey);
        session.SetVariable("dir", directory.Path);
        session.SetVariable("journal", directory.File("batch.journal"));
        var scripts = new List<string>
        {
            "Get-SegmindCredit -Verbose -Debug",
            $"$job = New-WanAnimateJob {OneRow} -Prompt 'secure one' -Verbose -Debug; $job",
            "$job | Get-WanAnimateStatus -Verbose -Debug",
            $"$result = $job | Wait-WanAnimateJob {FastPoll} -Verbose -Debug; $result",
            "$result | Save-WanAnimateOutput -Directory $dir -Verbose -Debug",
            $"Invoke-WanAnimate {OneRow} -Prompt 'secure two' -OutputDirectory $dir {FastPoll} -Verbose -Debug",

            // Failure paths: a FAILED job, unknown ids, a bad request.
            $"Invoke-WanAnimate {OneRow} -Prompt 'secure [fail]' -OutputDirectory $dir {FastPoll} -Verbose -Debug",
            "Get-WanAnimateStatus -RequestId no-such-request -Verbose -Debug",
            $"Wait-WanAnimateJob -RequestId no-such-request {FastPoll} -Verbose -Debug",
            "Save-WanAnimateOutput -RequestId no-such-request -Directory $dir -Verbose -Debug",
            "New-WanAnimateJob -InputVideo ftp://media.example.com/a.mp4 -ReferenceImage https://media.example.com/a.png -Prompt p -Verbose -Debug",

            // A batch journal is a file on disk: it must hold ids and inputs, never the key.
            $"Invoke-WanAnimate {OneRow} -Prompt 'secure journal' -OutputDirectory $dir -JournalPath $journal {FastPoll} -Verbose -Debug",
            $"Wait-WanAnimateJob -JournalPath $journal {FastPoll} -Verbose -Debug",

            // Background jobs: what Get-Job shows and what Receive-Job hands back, success and failure.
            $"$bg = Invoke-WanAnimate {OneRow} -Prompt 'secure job' -AsJob {FastPoll}; $null = $bg | Wait-Job -Timeout 60; Get-Job; Receive-Job $bg -Keep",
            $"$bad = New-WanAnimateJob {OneRow} -Prompt 'secure job [fail]' | Wait-WanAnimateJob -AsJob {FastPoll}; $null = $bad | Wait-Job -Timeout 60; Get-Job; Receive-Job $bad -Keep; $bad.ChildJobs",
        };

        var everything = scripts.Select(script => Capture(session, script)).ToList();

        // The paths were really taken, and every script ran as written.
        Assert.All(everything, c => Assert.All(c.Errors, e => Assert.StartsWith("WanAnimate.", e.FullyQualifiedErrorId)));
        Assert.All(everything, c => Assert.Null(c.Terminating));
        Assert.Contains(everything, c => c.Errors.Any(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.JobFailed", StringComparison.Ordinal)));
        Assert.Contains(everything, c => c.Errors.Any(e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.NotFound", StringComparison.Ordinal)));
        Assert.Contains(everything, c => c.Verbose.Count > 0);
        Assert.Contains(everything, c => c.Output.Any(o => o.IsModuleType("WanAnimateResult") && o.Get<string>("OutputFile") != null));
        Assert.True(Directory.GetFiles(directory.Path).Length >= 2);
        Assert.True(Directory.GetFiles(directory.Path, "batch.journal*").Length > 0, "No journal: " + string.Join(", ", Directory.GetFileSystemEntries(directory.Path)) + " / " + string.Join(" | ", everything.Where(c => c.Script.Contains("journal")).SelectMany(c => c.Errors).Select(e => e.FullyQualifiedErrorId + " " + e)));

        foreach (var captured in everything)
        {
            KeyLeaks.AssertNoneIn(captured, SecretKey);
        }

        KeyLeaks.AssertNoneInFiles(directory.Path, SecretKey);
    }

    [Fact]
    public void A_wait_that_times_out_and_a_progress_bar_keep_the_key_out()
    {
        _emulator.Reset(options =>
        {
            options.ApiKeys = new List<string> { EmulatorFixture.ApiKey, SecretKey };
            options.ProcessingSeconds = 1_000_000;
        });
        using var session = _emulator.OpenSession(SecretKey);

        var captured = Capture(session, $"New-WanAnimateJob {OneRow} -Prompt 'secure timeout' | Wait-WanAnimateJob {FastPoll} -Timeout '00:00:00.5' -Verbose -Debug");

        var timeout = Assert.Single(captured.Errors);
        Assert.StartsWith("WanAnimate.WaitTimeout", timeout.FullyQualifiedErrorId);
        KeyLeaks.AssertNoneIn(captured, SecretKey);
    }

    [Fact]
    public void A_wrong_key_is_refused_by_every_cmdlet_without_being_shown()
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession(WrongKey);
        session.SetVariable("dir", directory.Path);
        var scripts = new[]
        {
            "Get-SegmindCredit -Verbose -Debug",
            $"New-WanAnimateJob {OneRow} -Prompt 'wrong key' -Verbose -Debug",
            "Get-WanAnimateStatus -RequestId some-id -Verbose -Debug",
            $"Wait-WanAnimateJob -RequestId some-id {FastPoll} -Verbose -Debug",
            "Save-WanAnimateOutput -RequestId some-id -Directory $dir -Verbose -Debug",
            $"Invoke-WanAnimate {OneRow} -Prompt 'wrong key' -OutputDirectory $dir {FastPoll} -Verbose -Debug",
            $"$bg = Invoke-WanAnimate {OneRow} -Prompt 'wrong key job' -AsJob {FastPoll}; $null = $bg | Wait-Job -Timeout 60; Get-Job; Receive-Job $bg -Keep",
        };

        foreach (var script in scripts)
        {
            var captured = Capture(session, script);
            var errors = captured.Errors.Concat(captured.Terminating == null ? Array.Empty<ErrorRecord>() : new[] { captured.Terminating.ErrorRecord }).ToList();
            Assert.True(errors.Count > 0, "No error for: " + script);
            Assert.All(errors, e => Assert.StartsWith("WanAnimate.Unauthorized", e.FullyQualifiedErrorId));
            KeyLeaks.AssertNoneIn(captured, WrongKey);
        }

        Assert.Equal(0, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Theory]
    [InlineData("Get-SegmindCredit")]
    [InlineData("New-WanAnimateJob " + OneRow + " -Prompt 'never sent'")]
    [InlineData("Get-WanAnimateStatus -RequestId some-id")]
    [InlineData("Wait-WanAnimateJob -RequestId some-id -PollInterval '00:00:00.05'")]
    [InlineData("Save-WanAnimateOutput -RequestId some-id -Directory $dir")]
    [InlineData("Invoke-WanAnimate " + OneRow + " -Prompt 'never sent' -OutputDirectory $dir")]
    public void The_key_is_never_sent_to_a_plain_http_address_on_another_machine(string command)
    {
        using var directory = new TemporaryDirectory();
        using var session = _emulator.OpenSession(SecretKey);
        session.SetVariable("dir", directory.Path);

        // A name under .invalid never resolves. Had a request been attempted, the error would be a connection
        // failure (ServerError, "No such host"); a validation error proves the refusal came first.
        var captured = Capture(session, command + " -BaseUri 'http://api.example.invalid/' -Verbose -Debug");

        var errors = captured.Errors.Concat(captured.Terminating == null ? Array.Empty<ErrorRecord>() : new[] { captured.Terminating.ErrorRecord }).ToList();
        Assert.NotEmpty(errors);
        foreach (var error in errors)
        {
            Assert.StartsWith("WanAnimate.InvalidArgument", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
            Assert.Equal("SegmindValidationException", error.Exception.GetType().Name);
            Assert.Null(error.Exception.InnerException);
            Assert.Contains("plain http", error.ToString());
        }

        Assert.DoesNotContain(captured.Output, o => o.IsModuleType("WanAnimateJob") || o.IsModuleType("WanAnimateResult"));
        Assert.Empty(Directory.GetFiles(directory.Path));
        KeyLeaks.AssertNoneIn(captured, SecretKey);
    }

    private static CapturedRun Capture(PowerShellSession session, string script)
    {
        using var shell = session.CreateShell(script);
        var captured = new CapturedRun(script);
        try
        {
            captured.Output.AddRange(shell.Invoke().Where(o => o != null));
        }
        catch (RuntimeException ex)
        {
            captured.Terminating = ex;
        }

        captured.Errors.AddRange(shell.Streams.Error);
        captured.Warnings.AddRange(shell.Streams.Warning);
        captured.Verbose.AddRange(shell.Streams.Verbose);
        captured.Debug.AddRange(shell.Streams.Debug);
        captured.Information.AddRange(shell.Streams.Information);
        captured.Progress.AddRange(shell.Streams.Progress);
        return captured;
    }
}

/// <summary>Every stream of one script run.</summary>
public sealed class CapturedRun
{
    public CapturedRun(string script) => Script = script;

    public string Script { get; }
    public List<PSObject> Output { get; } = new();
    public List<ErrorRecord> Errors { get; } = new();
    public List<WarningRecord> Warnings { get; } = new();
    public List<VerboseRecord> Verbose { get; } = new();
    public List<DebugRecord> Debug { get; } = new();
    public List<InformationRecord> Information { get; } = new();
    public List<ProgressRecord> Progress { get; } = new();
    public RuntimeException? Terminating { get; set; }
}

/// <summary>Looks for a secret in everything a run produced, objects walked in depth.</summary>
public static class KeyLeaks
{
    public static void AssertNoneIn(CapturedRun run, string secret)
    {
        var texts = new List<(string Where, string Text)>();
        foreach (var item in run.Output)
        {
            Collect(item, "output", texts, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        }

        foreach (var error in run.Errors.Concat(run.Terminating == null ? Array.Empty<ErrorRecord>() : new[] { run.Terminating.ErrorRecord }))
        {
            CollectError(error, texts);
        }

        if (run.Terminating != null)
        {
            texts.Add(("terminating", run.Terminating.ToString()));
        }

        texts.AddRange(run.Warnings.Select(w => ("warning", w.Message)));
        texts.AddRange(run.Verbose.Select(v => ("verbose", v.Message)));
        texts.AddRange(run.Debug.Select(d => ("debug", d.Message)));
        foreach (var info in run.Information)
        {
            texts.Add(("information", info.ToString()));
            Collect(info.MessageData, "information data", texts, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        }

        foreach (var progress in run.Progress)
        {
            texts.Add(("progress", progress.Activity + " | " + progress.StatusDescription + " | " + progress.CurrentOperation + " | " + progress));
        }

        var leaks = texts.Where(t => t.Text != null && t.Text.Contains(secret, StringComparison.Ordinal)).ToList();
        Assert.True(leaks.Count == 0, "The key appeared (" + run.Script + ") in: " + string.Join(" || ", leaks.Select(l => l.Where + ": " + l.Text.Replace(secret, "<KEY>"))));
    }

    public static void AssertNoneInFiles(string directory, string secret)
    {
        foreach (var path in Directory.GetFileSystemEntries(directory, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(secret, path, StringComparison.Ordinal);
            if (File.Exists(path) && new FileInfo(path).Length < 4 * 1024 * 1024)
            {
                Assert.DoesNotContain(secret, File.ReadAllText(path), StringComparison.Ordinal);
            }
        }
    }

    private static void CollectError(ErrorRecord error, List<(string, string)> texts)
    {
        texts.Add(("error", error.ToString()));
        texts.Add(("error id", error.FullyQualifiedErrorId));
        texts.Add(("error category", error.CategoryInfo.ToString()));
        texts.Add(("error details", error.ErrorDetails?.Message + " | " + error.ErrorDetails?.RecommendedAction));
        texts.Add(("error stack", error.ScriptStackTrace ?? string.Empty));
        for (var exception = error.Exception; exception != null; exception = exception.InnerException)
        {
            texts.Add(("exception", exception.ToString()));
            foreach (DictionaryEntry entry in exception.Data)
            {
                texts.Add(("exception data", entry.Key + "=" + entry.Value));
            }
        }

        Collect(error.TargetObject, "error target", texts, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
        if (error.InvocationInfo is { } invocation)
        {
            texts.Add(("invocation line", invocation.Line ?? string.Empty));
            texts.Add(("invocation position", invocation.PositionMessage ?? string.Empty));
            foreach (var (name, value) in invocation.BoundParameters)
            {
                Collect(value, "bound parameter " + name, texts, new HashSet<object>(ReferenceEqualityComparer.Instance), 0);
            }
        }
    }

    /// <summary>Text of a value: strings, collections, and the properties of the objects PowerShell users see.</summary>
    private static void Collect(object? value, string where, List<(string, string)> texts, HashSet<object> seen, int depth)
    {
        if (value == null || depth > 4)
        {
            return;
        }

        if (value is string text)
        {
            texts.Add((where, text));
            return;
        }

        if (value.GetType().IsValueType)
        {
            texts.Add((where, value.ToString() ?? string.Empty));
            return;
        }

        if (!seen.Add(value))
        {
            return;
        }

        var psObject = value as PSObject;
        var baseObject = psObject?.BaseObject ?? value;
        texts.Add((where, SafeToString(value)));
        if (baseObject is ErrorRecord nested)
        {
            CollectError(nested, texts);
            return;
        }

        if (baseObject is IDictionary dictionary)
        {
            foreach (DictionaryEntry entry in dictionary)
            {
                Collect(entry.Key, where + " key", texts, seen, depth + 1);
                Collect(entry.Value, where + "[" + entry.Key + "]", texts, seen, depth + 1);
            }

            return;
        }

        if (baseObject is IEnumerable sequence && baseObject is not string)
        {
            foreach (var element in sequence.Cast<object?>().Take(1000))
            {
                Collect(element, where + "[]", texts, seen, depth + 1);
            }

            return;
        }

        // Properties as PowerShell shows them (Format-List *, Export-Csv, ConvertTo-Json all read these).
        var view = psObject ?? PSObject.AsPSObject(value);
        foreach (var property in view.Properties)
        {
            object? propertyValue;
            try
            {
                propertyValue = property.Value;
            }
            catch (Exception)
            {
                // A getter that throws shows nothing.
                continue;
            }

            // Runspaces, hosts and the like are the engine's, not the module's; their text is enough.
            var deep = baseObject is PSCustomObject || baseObject.GetType().FullName!.StartsWith(ModuleObjects.Namespace, StringComparison.Ordinal) || baseObject is Job;
            if (deep)
            {
                Collect(propertyValue, where + "." + property.Name, texts, seen, depth + 1);
            }
            else if (propertyValue != null)
            {
                texts.Add((where + "." + property.Name, SafeToString(propertyValue)));
            }
        }
    }

    private static string SafeToString(object value)
    {
        try
        {
            return value.ToString() ?? string.Empty;
        }
        catch (Exception)
        {
            return string.Empty;
        }
    }
}
