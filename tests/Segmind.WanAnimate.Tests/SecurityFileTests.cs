using System.Management.Automation;
using System.Text.Json;
using Segmind.WanAnimate.Tests.Support;

namespace Segmind.WanAnimate.Tests;

/// <summary>
/// A hostile or broken server cannot make the module write outside the folder it was given, nor make it read an
/// unbounded answer into memory.
/// </summary>
public sealed class SecurityFileTests : IAsyncLifetime
{
    private const string Key = "sk-file-tests-key";
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private const string OneRow = "-InputVideo https://media.example.com/f.mp4 -ReferenceImage https://media.example.com/f.png -Prompt 'hostile server'";

    private static readonly byte[] Video = { 0, 0, 0, 16, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 0, 0 };

    private SecurityStubServer _stub = null!;

    public Task InitializeAsync()
    {
        _stub = new SecurityStubServer((_, _) => SecurityStubServer.Json("{\"error\":\"not set\"}", 500));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _stub.DisposeAsync();

    public static TheoryData<string> HostileRequestIds => new()
    {
        "../../evil",
        "..\\..\\evil",
        "..",
        ".",
        "/abs",
        "\\\\server\\share\\x",
        "C:\\windows\\evil",
        "~/evil",
        "con",
        "nul.txt",
        "a:b",
        "id\u0000with-nul",
        "line\nbreak",
        new string('a', 400),
        new string('é', 200),
        "sub/dir/../../../up",
    };

    [Theory]
    [MemberData(nameof(HostileRequestIds))]
    public void A_request_id_from_the_server_never_writes_outside_the_target_folder(string requestId)
    {
        ServeOneJob(requestId, output: _stub.BaseUri + "outputs/video.mp4");
        using var root = new TemporaryDirectory();
        var target = Path.Combine(root.Path, "outer", "target");
        Directory.CreateDirectory(target);
        using var session = new PowerShellSession(_stub.BaseUri, Key);

        var result = session.Run($"New-WanAnimateJob {OneRow} | Wait-WanAnimateJob {FastPoll} -Timeout '00:01:00' | Save-WanAnimateOutput -Directory $args[0]", target);

        AssertStrictlyInside(target, root.Path, result, requestId);
    }

    [Theory]
    [MemberData(nameof(HostileRequestIds))]
    public void A_request_id_typed_by_the_user_never_writes_outside_the_target_folder(string requestId)
    {
        ServeOneJob(requestId, output: _stub.BaseUri + "outputs/video.mp4");
        using var root = new TemporaryDirectory();
        var target = Path.Combine(root.Path, "outer", "target");
        Directory.CreateDirectory(target);
        using var session = new PowerShellSession(_stub.BaseUri, Key);

        var result = session.Run("Save-WanAnimateOutput -RequestId $args[1] -ResponseUrl $args[2] -Directory $args[0]", target, requestId, _stub.BaseUri + "v2/requests/job/result");

        AssertStrictlyInside(target, root.Path, result, requestId);
    }

    [Theory]
    [InlineData("con", "_con.mp4")]
    [InlineData("LPT1", "_LPT1.mp4")]
    public void A_device_name_id_is_saved_under_a_usable_name(string requestId, string expectedName)
    {
        ServeOneJob(requestId, output: _stub.BaseUri + "outputs/video.mp4");
        using var target = new TemporaryDirectory();
        using var session = new PowerShellSession(_stub.BaseUri, Key);

        var result = session.Run("Save-WanAnimateOutput -RequestId $args[1] -ResponseUrl $args[2] -Directory $args[0]", target.Path, requestId, _stub.BaseUri + "v2/requests/job/result");

        Assert.Empty(result.Errors);
        Assert.Equal(expectedName, Path.GetFileName(Assert.Single(result.Objects("WanAnimateResult")).Get<string>("OutputFile")));
    }

    [Fact]
    public void A_very_long_id_is_saved_under_a_shortened_name_that_stays_distinct()
    {
        var first = new string('a', 400);
        var second = new string('a', 399) + "b";
        using var target = new TemporaryDirectory();
        var names = new List<string>();
        foreach (var requestId in new[] { first, second })
        {
            ServeOneJob(requestId, output: _stub.BaseUri + "outputs/video.mp4");
            using var session = new PowerShellSession(_stub.BaseUri, Key);
            var result = session.Run("Save-WanAnimateOutput -RequestId $args[1] -ResponseUrl $args[2] -Directory $args[0]", target.Path, requestId, _stub.BaseUri + "v2/requests/job/result");
            Assert.Empty(result.Errors);
            names.Add(Path.GetFileName(Assert.Single(result.Objects("WanAnimateResult")).Get<string>("OutputFile")!));
        }

        Assert.All(names, name => Assert.InRange(name.Length, 20, 130));
        Assert.NotEqual(names[0], names[1]);
        Assert.Equal(2, Directory.GetFiles(target.Path, "*.mp4").Length);
    }

    public static TheoryData<string> OddOutputs => new()
    {
        "file:///outside/evil.mp4",
        "ftp://127.0.0.1/evil.mp4",
        "../../evil.mp4",
        "//127.0.0.1/evil.mp4",
        "outputs/video.mp4",
        "{base}outputs/../../escape.mp4",
        "{base}outputs/video.mp4?name=../../evil.mp4",
        "{base}outputs/disposition.mp4",
        "data:video/mp4;base64,AAAAEGZ0eXBpc29tAAAAAA==",
        "",
    };

    [Theory]
    [MemberData(nameof(OddOutputs))]
    public void An_odd_output_address_is_refused_or_saved_under_the_request_id_inside_the_folder(string output)
    {
        ServeOneJob("job-odd", output.Replace("{base}", _stub.BaseUri.AbsoluteUri, StringComparison.Ordinal));
        using var root = new TemporaryDirectory();
        var target = Path.Combine(root.Path, "outer", "target");
        Directory.CreateDirectory(target);
        using var session = new PowerShellSession(_stub.BaseUri, Key);

        var result = session.Run($"New-WanAnimateJob {OneRow} | Wait-WanAnimateJob {FastPoll} -Timeout '00:01:00' | Save-WanAnimateOutput -Directory $args[0]", target);

        AssertStrictlyInside(target, root.Path, result, "job-odd");
        foreach (var file in Directory.GetFiles(target))
        {
            // The video, and the record beside it that lets a later save verify it.
            Assert.Contains(Path.GetFileName(file), new[] { "job-odd.mp4", "job-odd.mp4.segmind.json" });
        }
    }

    [Fact]
    public void A_completed_job_without_output_is_reported_as_having_no_output()
    {
        ServeOneJob("job-empty", output: string.Empty);
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(_stub.BaseUri, Key);

        var result = session.Run($"New-WanAnimateJob {OneRow} | Wait-WanAnimateJob {FastPoll} -Timeout '00:01:00' | Save-WanAnimateOutput -Directory $args[0]", directory.Path);

        var error = Assert.Single(result.Errors);
        Assert.DoesNotContain("COMPLETED, not COMPLETED", error.ToString());
        Assert.Contains("no output", error.ToString(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(Directory.GetFiles(directory.Path));
    }

    [Theory]
    [InlineData("status")]
    [InlineData("result")]
    [InlineData("credits")]
    public void A_50_MB_answer_is_refused_as_a_protocol_error(string endpoint)
    {
        _stub.Handler = (_, _) => SecurityStubServer.HugeJson(50L * 1024 * 1024);
        AssertProtocolError(endpoint);
    }

    [Theory]
    [InlineData("status")]
    [InlineData("result")]
    [InlineData("credits")]
    public void A_huge_declared_length_is_refused_as_a_protocol_error(string endpoint)
    {
        _stub.Handler = (_, _) => SecurityStubServer.DeclaredOnly(40L * 1024 * 1024 * 1024);
        AssertProtocolError(endpoint);
    }

    private void AssertProtocolError(string endpoint)
    {
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(_stub.BaseUri, Key);
        var script = endpoint switch
        {
            "status" => "Get-WanAnimateStatus -RequestId job-huge",
            "result" => "Save-WanAnimateOutput -RequestId job-huge -Directory $args[0]",
            _ => "Get-SegmindCredit",
        };

        var result = session.Run(script, directory.Path);

        var errors = result.Errors.Concat(result.Terminating == null ? Array.Empty<ErrorRecord>() : new[] { result.Terminating.ErrorRecord }).ToList();
        var error = Assert.Single(errors);
        Assert.StartsWith("WanAnimate.ProtocolError", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ProtocolError, error.CategoryInfo.Category);
        Assert.DoesNotContain(result.Output, o => o.IsModuleType("WanAnimateStatus") || o.IsModuleType("WanAnimateResult") || o.IsModuleType("SegmindCredit"));
        Assert.Empty(Directory.GetFiles(directory.Path));
    }

    /// <summary>The stub plays Segmind for one job: accepted as <paramref name="requestId"/>, COMPLETED at once, with this output.</summary>
    private void ServeOneJob(string requestId, string output)
    {
        var baseUri = _stub.BaseUri.AbsoluteUri;
        var submitted = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["request_id"] = requestId,
            ["status"] = "QUEUED",
            ["status_url"] = baseUri + "v2/requests/job/status",
            ["response_url"] = baseUri + "v2/requests/job/result",
        });
        var status = JsonSerializer.Serialize(new Dictionary<string, object> { ["status"] = "COMPLETED", ["request_id"] = requestId, ["metrics"] = new Dictionary<string, object>() });
        var result = JsonSerializer.Serialize(new Dictionary<string, object> { ["status"] = "COMPLETED", ["request_id"] = requestId, ["output"] = output, ["metrics"] = new Dictionary<string, object>() });
        _stub.Handler = (call, _) => call.Path switch
        {
            var p when call.Method == "POST" && p.StartsWith("/v2/", StringComparison.Ordinal) => SecurityStubServer.Json(submitted),
            var p when p.EndsWith("/status", StringComparison.Ordinal) => SecurityStubServer.Json(status),
            var p when p.StartsWith("/v2/requests/", StringComparison.Ordinal) => SecurityStubServer.Json(result),
            "/outputs/disposition.mp4" => SecurityStubServer.Answer(200, "video/mp4", Video, ("Content-Disposition", "attachment; filename=\"../../evil.mp4\"")),
            var p when p.StartsWith("/outputs/", StringComparison.Ordinal) || p.EndsWith(".mp4", StringComparison.Ordinal) => SecurityStubServer.Answer(200, "video/mp4", Video),
            _ => SecurityStubServer.Json("{\"error\":\"Not found\"}", 404),
        };
    }

    /// <summary>Either a clear module error, or files written directly inside <paramref name="target"/> and nowhere else.</summary>
    private static void AssertStrictlyInside(string target, string root, ScriptResult result, string requestId)
    {
        Assert.Null(result.Terminating);
        foreach (var error in result.Errors)
        {
            Assert.StartsWith("WanAnimate.", error.FullyQualifiedErrorId);
            Assert.False(string.IsNullOrWhiteSpace(error.ToString()));
        }

        var saved = result.Objects("WanAnimateResult");
        Assert.True(saved.Count + result.Errors.Count >= 1, "Neither a saved result nor an error.");
        foreach (var item in saved)
        {
            var file = Path.GetFullPath(item.Get<string>("OutputFile")!);
            Assert.Equal(Path.GetFullPath(target), Path.GetDirectoryName(file));
            Assert.True(File.Exists(file), "The result names a file that is not there: " + file);
        }

        // Nothing anywhere else under the scratch root, and nothing where the id would point if taken as a path.
        foreach (var entry in Directory.GetFileSystemEntries(root, "*", SearchOption.AllDirectories))
        {
            var full = Path.GetFullPath(entry);
            var allowed = full == Path.GetFullPath(target)
                || Path.GetFullPath(Path.Combine(root, "outer")) == full
                || Path.GetDirectoryName(full) == Path.GetFullPath(target);
            Assert.True(allowed, "Written outside the target folder: " + full);
        }

        if (requestId.IndexOf('\0') < 0)
        {
            foreach (var candidate in new[] { requestId, requestId + ".mp4", requestId.Replace('\\', '/'), requestId.Replace('\\', '/') + ".mp4" })
            {
                string full;
                try
                {
                    full = Path.GetFullPath(Path.Combine(target, candidate));
                }
                catch (Exception ex) when (ex is ArgumentException or PathTooLongException or NotSupportedException)
                {
                    continue;
                }

                if (Path.GetDirectoryName(full) != Path.GetFullPath(target) && full != Path.GetFullPath(target) && !Path.GetFullPath(target).StartsWith(full, StringComparison.Ordinal))
                {
                    Assert.False(File.Exists(full), "A file appeared where the id points: " + full);
                }
            }
        }
    }
}
