using System.Net;
using System.Text.Json;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// The cmdlets against a hostile API on 127.0.0.1 and a second host on 127.0.0.2: job addresses naming the second
/// host (from the server or from a CSV) never take the key there, an echoed key is found in no error and no journal,
/// and a garbled answer to a submit is journaled as unknown, so a re-run submits nothing.
/// </summary>
public sealed class HostileServerModuleTests : IAsyncLifetime
{
    private const string Key = "sk-hostile-0f3c9a77-SECRET";
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private const string OneRow = "-InputVideo https://media.example.com/h.mp4 -ReferenceImage https://media.example.com/h.png -Prompt 'hostile'";

    private SecurityStubServer _api = null!;
    private SecurityStubServer _elsewhere = null!;

    public Task InitializeAsync()
    {
        _api = new SecurityStubServer((_, _) => SecurityStubServer.Json("{\"error\":\"not set\"}", 500));
        _elsewhere = new SecurityStubServer((_, _) => SecurityStubServer.Json("{\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}"), IPAddress.Parse("127.0.0.2"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _elsewhere.DisposeAsync();
    }

    /// <summary>The API plays Segmind: submits answer <paramref name="submitAnswer"/>, the job is COMPLETED at once.</summary>
    private void ServeJob(string submitAnswer, string status = "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}")
    {
        var result = "{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"" + _api.BaseUri + "outputs/job-1.mp4\"}";
        _api.Handler = (call, _) => call.Path switch
        {
            _ when call.Method == "POST" => SecurityStubServer.Json(submitAnswer),
            var p when p.EndsWith("/status", StringComparison.Ordinal) => SecurityStubServer.Json(status, status.Contains("FAILED") ? 422 : 200),
            var p when p.StartsWith("/v2/requests/", StringComparison.Ordinal) => SecurityStubServer.Json(result),
            _ => SecurityStubServer.Json("{\"error\":\"Not found\"}", 404),
        };
    }

    [Fact]
    public void A_submit_answer_naming_another_host_is_followed_at_the_API_with_a_warning()
    {
        var other = _elsewhere.BaseUri;
        ServeJob($"{{\"request_id\":\"job-1\",\"status\":\"QUEUED\",\"status_url\":\"{other}v2/requests/job-1/status\",\"response_url\":\"{other}v2/requests/job-1\"}}");
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var result = session.Run($"New-WanAnimateJob {OneRow} | Wait-WanAnimateJob {FastPoll} -Timeout '00:01:00'");

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        Assert.Single(result.Objects("WanAnimateResult"));
        Assert.Empty(_elsewhere.Calls);
        Assert.Contains(_api.Calls, c => c.Path == "/v2/requests/job-1/status");
        Assert.Contains(result.Warnings, w => w.Message.Contains(other.Authority) && w.Message.Contains("job-1"));
    }

    [Theory]
    [InlineData("Wait-WanAnimateJob " + FastPoll + " -Timeout '00:01:00'")]
    [InlineData("Get-WanAnimateStatus")]
    public void A_CSV_whose_StatusUrl_names_another_host_never_sends_the_key_there(string command)
    {
        ServeJob("{}");
        var other = _elsewhere.BaseUri;
        using var session = new PowerShellSession(_api.BaseUri, Key);

        // What Import-Csv gives for a jobs.csv row: every column as text.
        var result = session.Run("[pscustomobject]@{ RequestId = 'job-1'; StatusUrl = $args[0]; ResponseUrl = $args[1] } | " + command, other + "v2/requests/job-1/status", other + "v2/requests/job-1");

        Assert.True(result.Errors.Count == 0 && result.Terminating == null, result.Describe());
        Assert.Single(result.Output);
        Assert.Empty(_elsewhere.Calls);
        Assert.Contains(_api.Calls, c => c.Path == "/v2/requests/job-1/status");
        Assert.Contains(result.Warnings, w => w.Message.Contains("not the API host"));
    }

    [Fact]
    public void An_escaped_key_in_a_failed_jobs_detail_reaches_no_error_and_no_journal()
    {
        var escaped = string.Concat(Key.ToUpperInvariant().Select(c => "\\u" + ((int)c).ToString("x4")));
        ServeJob(
            "{\"request_id\":\"job-1\",\"status\":\"QUEUED\",\"status_url\":\"" + _api.BaseUri + "v2/requests/job-1/status\",\"response_url\":\"" + _api.BaseUri + "v2/requests/job-1\"}",
            "{\"status\":\"FAILED\",\"request_id\":\"job-1\",\"detail\":{\"why\":\"quota of " + escaped + "\"}}");
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var result = session.Run($"New-WanAnimateJob {OneRow} -JournalPath $args[0] | Wait-WanAnimateJob {FastPoll} -Timeout '00:01:00' -JournalPath $args[0]", journal);

        var failed = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.JobFailed", failed.FullyQualifiedErrorId);
        foreach (var text in new[] { failed.ToString(), failed.Exception.ToString(), File.ReadAllText(journal), result.Describe() })
        {
            Assert.DoesNotContain(Key[..8], text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(escaped[..24], text, StringComparison.OrdinalIgnoreCase);
        }
    }

    public static TheoryData<string, string?> GarbledSubmitAnswers => new()
    {
        { "<html>accepted</html>", null },
        { "{\"request_id\":\"job-41\",\"status\":\"QUE", "job-41" },
        { "{\"request_id\":\"job-42\",\"status\":\"QUEUED\"}", "job-42" },
    };

    [Theory]
    [MemberData(nameof(GarbledSubmitAnswers))]
    public void A_garbled_answer_to_a_submit_is_journaled_unknown_and_a_rerun_submits_nothing(string answer, string? salvaged)
    {
        ServeJob(answer);
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var first = session.Run($"New-WanAnimateJob {OneRow} -JournalPath $args[0]", journal);
        var second = session.Run($"New-WanAnimateJob {OneRow} -JournalPath $args[0]", journal);

        var error = Assert.Single(first.Errors);
        Assert.StartsWith("WanAnimate.SubmitOutcomeUnknown", error.FullyQualifiedErrorId);
        Assert.Single(_api.Calls, c => c.Method == "POST");
        Assert.Empty(second.Objects("WanAnimateJob"));
        var kinds = File.ReadAllLines(journal).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("kind").GetString()).ToList();
        Assert.Contains("unknown", kinds);
        Assert.DoesNotContain("not-submitted", kinds);
        if (salvaged != null)
        {
            Assert.Contains(salvaged, File.ReadAllText(journal));
        }
    }

    [Fact]
    public async Task A_FIFO_or_an_empty_file_as_input_is_refused_naming_the_field_before_anything_is_sent()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        ServeJob("{}");
        using var directory = new TemporaryDirectory();
        var fifo = directory.File("motion.mp4");
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", fifo)!)
        {
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var empty = directory.File("hero.png");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        var journal = directory.File("batch.journal");
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var run = Task.Run(() => session.Run(
            "New-WanAnimateJob -InputVideo $args[0] -ReferenceImage https://media.example.com/h.png -Prompt one -JournalPath $args[2]; "
            + "New-WanAnimateJob -InputVideo https://media.example.com/h.mp4 -ReferenceImage $args[1] -Prompt two -JournalPath $args[2]",
            fifo,
            empty,
            journal));
        var result = await run.WaitAsync(TimeSpan.FromMinutes(3));

        Assert.Equal(2, result.Errors.Count);
        Assert.All(result.Errors, e => Assert.StartsWith("WanAnimate.InvalidArgument", e.FullyQualifiedErrorId));
        Assert.Contains("InputVideo", result.Errors[0].ToString());
        Assert.Contains("not a regular file", result.Errors[0].ToString());
        Assert.Contains("ReferenceImage", result.Errors[1].ToString());
        Assert.Contains("empty (0 bytes)", result.Errors[1].ToString());
        Assert.Empty(_api.Calls);
    }

    [Fact]
    public void A_base64_output_over_the_JSON_cap_is_saved_whole_by_Invoke_and_by_Save()
    {
        // 13 MB of video is about 17.4 MB of base64: over the 16 MB cap on JSON answers.
        var video = new byte[13 * 1024 * 1024];
        new Random(3).NextBytes(video);
        new byte[] { 0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m' }.CopyTo(video, 0);
        var result = System.Text.Encoding.ASCII.GetBytes("{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"" + Convert.ToBase64String(video) + "\"}");
        var api = _api.BaseUri.AbsoluteUri;
        _api.Handler = (call, _) => call.Path switch
        {
            _ when call.Method == "POST" => SecurityStubServer.Json("{\"request_id\":\"job-1\",\"status\":\"QUEUED\",\"status_url\":\"" + api + "v2/requests/job-1/status\",\"response_url\":\"" + api + "v2/requests/job-1\"}"),
            var p when p.EndsWith("/status", StringComparison.Ordinal) => SecurityStubServer.Json("{\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}"),
            _ => SecurityStubServer.Answer(200, "application/json", result),
        };
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var invoked = session.Run($"Invoke-WanAnimate {OneRow} -Base64 {FastPoll} -Timeout '00:02:00' -OutputDirectory $args[0]", directory.File("invoked"));
        var saved = session.Run($"Get-WanAnimateStatus -RequestId job-1 | Save-WanAnimateOutput -Directory $args[0]", directory.File("saved"));

        foreach (var run in new[] { invoked, saved })
        {
            Assert.True(run.Errors.Count == 0 && run.Terminating == null, run.Describe());
            var file = Assert.Single(run.Objects("WanAnimateResult")).Get<string>("OutputFile")!;
            Assert.Equal(video.Length, new FileInfo(file).Length);
            Assert.Equal(video, File.ReadAllBytes(file));
        }
    }

    private string SubmitAnswer => "{\"request_id\":\"job-1\",\"status\":\"QUEUED\",\"status_url\":\"" + _api.BaseUri + "v2/requests/job-1/status\",\"response_url\":\"" + _api.BaseUri + "v2/requests/job-1\"}";

    [Fact]
    public void The_same_Id_with_other_inputs_is_refused_naming_the_fields_unless_reuse_is_asked_for()
    {
        ServeJob(SubmitAnswer);
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        using var session = new PowerShellSession(_api.BaseUri, Key);

        session.Run("New-WanAnimateJob -Id shot-1 -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/h.png -Prompt first -JournalPath $args[0]", journal).ThrowOnError();
        var changed = session.Run("New-WanAnimateJob -Id shot-1 -InputVideo https://media.example.com/b.mp4 -ReferenceImage https://media.example.com/h.png -Prompt second -JournalPath $args[0]", journal);
        var same = session.Run("New-WanAnimateJob -Id shot-1 -InputVideo https://media.example.com/a.mp4 -ReferenceImage https://media.example.com/h.png -Prompt first -JournalPath $args[0]", journal);
        var reused = session.Run("New-WanAnimateJob -Id shot-1 -InputVideo https://media.example.com/b.mp4 -ReferenceImage https://media.example.com/h.png -Prompt second -JournalPath $args[0] -ReuseJournaledRow", journal);

        var error = Assert.Single(changed.Errors);
        Assert.StartsWith("WanAnimate.InvalidArgument", error.FullyQualifiedErrorId);
        Assert.Contains("shot-1", error.ToString());
        Assert.Contains("InputVideo, Prompt differ", error.ToString());
        Assert.Contains("job-1", error.ToString());
        Assert.Empty(changed.Output);
        Assert.True(same.Errors.Count == 0, same.Describe());
        Assert.Equal("job-1", Assert.Single(same.Objects("WanAnimateJob")).Text("RequestId"));
        Assert.True(reused.Errors.Count == 0, reused.Describe());
        Assert.Single(reused.Objects("WanAnimateJob"));
        Assert.Single(_api.Calls, c => c.Method == "POST");
    }

    [Fact]
    public void Two_columns_that_set_the_same_parameter_are_refused_naming_both()
    {
        ServeJob(SubmitAnswer);
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var result = session.Run(
            "[pscustomobject]@{ input_video = 'https://media.example.com/a.mp4'; InputVideo = 'https://media.example.com/b.mp4'; reference_image = 'https://media.example.com/h.png'; prompt = 'p' } | New-WanAnimateJob");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.InvalidArgument", error.FullyQualifiedErrorId);
        Assert.Contains("'input_video' and 'InputVideo'", error.ToString());
        Assert.Contains("Row 1", error.ToString());
        Assert.Empty(_api.Calls);
    }

    /// <summary>Makes a file unwritable even for root (immutable), or undoes it.</summary>
    private static void SetReadOnly(string path, bool readOnly)
    {
        if (OperatingSystem.IsWindows())
        {
            File.SetAttributes(path, readOnly ? FileAttributes.ReadOnly : FileAttributes.Normal);
            return;
        }

        var isRoot = Environment.UserName == "root";
        var (tool, arguments) = isRoot ? ("chattr", (readOnly ? "+i " : "-i ") + path) : ("chmod", (readOnly ? "444 " : "644 ") + path);
        using var process = System.Diagnostics.Process.Start(tool, arguments)!;
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public void A_read_only_journal_is_followed_by_Wait_and_a_folder_as_journal_is_a_clear_error()
    {
        ServeJob(SubmitAnswer);
        using var directory = new TemporaryDirectory();
        var journal = directory.File("batch.journal");
        using var session = new PowerShellSession(_api.BaseUri, Key);
        session.Run($"New-WanAnimateJob {OneRow} -JournalPath $args[0]", journal).ThrowOnError();

        SetReadOnly(journal, true);
        try
        {
            var waited = session.Run($"Wait-WanAnimateJob -JournalPath $args[0] {FastPoll} -Timeout '00:01:00'", journal);

            Assert.True(waited.Errors.Count == 0 && waited.Terminating == null, waited.Describe());
            Assert.Equal("job-1", Assert.Single(waited.Objects("WanAnimateResult")).Text("RequestId"));
            Assert.Contains(waited.Warnings, w => w.Message.Contains("read-only"));
        }
        finally
        {
            SetReadOnly(journal, false);
        }

        var folder = session.CatchTerminating("New-WanAnimateJob " + OneRow + " -JournalPath $args[0]", directory.Path);
        Assert.NotNull(folder);
        Assert.Contains("is a folder", folder!.ToString());
        Assert.Contains("batch.journal", folder.ToString());
    }

    [Theory]
    [InlineData("text/html", "<html>maintenance</html>", 200, "not a JSON object")]
    [InlineData("text/plain", "moved", 302, "302")]
    public void A_wait_that_times_out_keeps_the_cause_of_the_last_failed_poll(string contentType, string body, int status, string cause)
    {
        _api.Handler = (call, _) => SecurityStubServer.Answer(status, contentType, System.Text.Encoding.UTF8.GetBytes(body), ("Location", "http://127.0.0.2:1/elsewhere"));
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var result = session.Run($"Wait-WanAnimateJob -RequestId job-1 {FastPoll} -Timeout '00:00:02'");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.WaitTimeout", error.FullyQualifiedErrorId);
        Assert.Contains("job-1", error.ToString());
        Assert.Contains("the last poll failed", error.ToString());
        Assert.Contains(cause, error.ToString());
        Assert.DoesNotContain("last status: unknown", error.ToString());
    }

    [Fact]
    public void An_output_redirected_to_a_file_address_is_refused_naming_the_job()
    {
        var api = _api.BaseUri.AbsoluteUri;
        _api.Handler = (call, _) => call.Path switch
        {
            _ when call.Method == "POST" => SecurityStubServer.Json(SubmitAnswer),
            var p when p.EndsWith("/status", StringComparison.Ordinal) => SecurityStubServer.Json("{\"status\":\"COMPLETED\",\"request_id\":\"job-1\"}"),
            var p when p.StartsWith("/v2/requests/", StringComparison.Ordinal) => SecurityStubServer.Json("{\"status\":\"COMPLETED\",\"request_id\":\"job-1\",\"output\":\"" + api + "outputs/x.mp4\"}"),
            _ => SecurityStubServer.Answer(302, "text/plain", "moved"u8.ToArray(), ("Location", "file:///etc/passwd")),
        };
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(_api.BaseUri, Key);

        var result = session.Run($"Invoke-WanAnimate {OneRow} {FastPoll} -Timeout '00:01:00' -OutputDirectory $args[0]", directory.Path);

        var error = Assert.Single(result.Errors);
        Assert.False(error.FullyQualifiedErrorId.Contains("Unexpected"), error.Exception.ToString());
        Assert.Contains("job-1", error.ToString());
        Assert.Empty(Directory.GetFiles(directory.Path));
    }
}
