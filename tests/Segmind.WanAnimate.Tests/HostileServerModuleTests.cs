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
}
