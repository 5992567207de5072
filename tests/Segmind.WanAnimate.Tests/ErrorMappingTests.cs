using System.Management.Automation;
using Segmind.Emulator;
using Segmind.WanAnimate.Tests.Support;
using JobState = System.Management.Automation.JobState;

namespace Segmind.WanAnimate.Tests;

/// <summary>An emulator that knows a few extra accounts: one without credits, one rate limited, one refused, one secret.</summary>
public sealed class AccountsEmulatorFixture : EmulatorFixture
{
    public const string PoorKey = "poor-account-key";
    public const string BusyKey = "busy-account-key";
    public const string ForbiddenKey = "forbidden-account-key";

    /// <summary>Distinctive enough that finding it anywhere in the output means it leaked.</summary>
    public const string SecretKey = "sk-live-7Q2vX9mZ4pL8wR3nT6yB1cK5";

    protected override void Configure(EmulatorOptions options)
    {
        options.ApiKeys = new List<string> { ApiKey, PoorKey, BusyKey, SecretKey };
        options.ForbiddenKeys = new List<string> { ForbiddenKey };
    }
}

/// <summary>Every failure surfaces with a stable error id and category, and the API key never shows anywhere.</summary>
public sealed class ErrorMappingTests : IClassFixture<AccountsEmulatorFixture>
{
    private const string FastPoll = "-PollInterval '00:00:00.05'";
    private const string ThousandRows = "$rows = 1..1000 | ForEach-Object { [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = \"row $_\" } }";
    private const string Submit = "New-WanAnimateJob -InputVideo https://media.example.com/in.mp4 -ReferenceImage https://media.example.com/face.png";

    private readonly AccountsEmulatorFixture _emulator;

    public ErrorMappingTests(AccountsEmulatorFixture emulator)
    {
        _emulator = emulator;
        _emulator.Reset();
    }

    [Fact]
    public void A_wrong_key_is_an_Unauthorized_authentication_error()
    {
        using var session = _emulator.OpenSession(apiKey: "not-a-valid-key");

        var credit = session.Run("Get-SegmindCredit");
        var submit = session.Run($"{Submit} -Prompt 'wrong key'; 'after'");

        foreach (var error in new[] { Assert.Single(credit.Errors), Assert.Single(submit.Errors) })
        {
            Assert.StartsWith("WanAnimate.Unauthorized", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
            Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        }

        Assert.Equal("after", submit.Output[^1].BaseObject);
    }

    [Fact]
    public void A_refused_key_is_a_Forbidden_permission_error()
    {
        using var session = _emulator.OpenSession(apiKey: AccountsEmulatorFixture.ForbiddenKey);

        var error = Assert.Single(session.Run("Get-SegmindCredit").Errors);

        Assert.StartsWith("WanAnimate.Forbidden", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.PermissionDenied, error.CategoryInfo.Category);
    }

    [Fact]
    public void Exhausted_credits_stop_submitting_with_one_InsufficientCredits_error_giving_the_figures()
    {
        _emulator.Server.SetCredits(AccountsEmulatorFixture.PoorKey, 0);
        using var session = _emulator.OpenSession(apiKey: AccountsEmulatorFixture.PoorKey);

        var result = session.Run("1..50 | ForEach-Object { [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = \"poor $_\" } } | New-WanAnimateJob");

        // One error for the batch, not one per row; only the submits already in flight (4 by default) were sent.
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.InsufficientCredits", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.QuotaExceeded, error.CategoryInfo.Category);
        Assert.Contains("balance is now 0 credits", error.ToString());
        Assert.Contains("50 row(s) were not submitted", error.ToString());
        Assert.IsType<PSObject>(error.TargetObject);
        Assert.False(string.IsNullOrEmpty(error.ErrorDetails?.RecommendedAction));
        Assert.Equal(0, _emulator.Server.Counters.AcceptedSubmits);
        Assert.InRange(_emulator.Server.Counters.Requests(EndpointGroup.Submit), 1, 4);
    }

    [Fact]
    public void A_wrong_key_on_a_thousand_rows_is_one_terminating_error_after_the_requests_in_flight()
    {
        using var session = _emulator.OpenSession(apiKey: "not-a-valid-key");

        var result = session.Run("1..1000 | ForEach-Object { [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = \"row $_\" } } | New-WanAnimateJob; 'after'");

        var errors = result.Errors.Concat(result.Terminating == null ? Array.Empty<ErrorRecord>() : new[] { result.Terminating.ErrorRecord }).ToList();
        var error = Assert.Single(errors);
        Assert.StartsWith("WanAnimate.Unauthorized", error.FullyQualifiedErrorId);
        Assert.Contains("nothing further was sent", error.ToString());
        Assert.InRange(_emulator.Server.Counters.TotalRequests, 1, 4);
    }

    [Theory]
    [InlineData("$rows | New-WanAnimateJob -AsJob")]
    [InlineData("$rows | Invoke-WanAnimate -AsJob " + FastPoll)]
    [InlineData("1..1000 | ForEach-Object { \"job-$_\" } | Wait-WanAnimateJob -AsJob " + FastPoll)]
    public void A_wrong_key_on_a_thousand_rows_under_AsJob_is_one_error_after_the_requests_in_flight(string command)
    {
        using var session = _emulator.OpenSession(apiKey: "not-a-valid-key");

        var result = session.Run(
            ThousandRows + "\n$job = " + command + "\n$null = $job | Wait-Job -Timeout 300\n$job.JobStateInfo.State\nReceive-Job $job\n'after'");

        // As on the pipeline: one error for the stop, naming how many rows it held back, not one per row.
        Assert.Null(result.Terminating);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.Unauthorized", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.AuthenticationError, error.CategoryInfo.Category);
        Assert.Contains("nothing further was sent (1000 row(s)", error.ToString());
        Assert.NotNull(error.TargetObject);
        Assert.Equal(JobState.Failed, result.Output[0].BaseObject);
        Assert.Equal("after", result.Output[^1].BaseObject);
        Assert.InRange(_emulator.Server.Counters.TotalRequests, 1, 4);
    }

    [Fact]
    public void Exhausted_credits_under_AsJob_stop_submitting_with_one_InsufficientCredits_error_giving_the_figures()
    {
        _emulator.Server.SetCredits(AccountsEmulatorFixture.PoorKey, 0);
        using var session = _emulator.OpenSession(apiKey: AccountsEmulatorFixture.PoorKey);

        var result = session.Run(
            "$rows = 1..50 | ForEach-Object { [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = \"poor $_\" } }\n"
            + "$job = $rows | New-WanAnimateJob -AsJob\n$null = $job | Wait-Job -Timeout 300\n$job.JobStateInfo.State\nReceive-Job $job");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.InsufficientCredits", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.QuotaExceeded, error.CategoryInfo.Category);
        Assert.Contains("balance is now 0 credits", error.ToString());
        Assert.Contains("50 row(s) were not submitted", error.ToString());
        Assert.IsType<PSObject>(error.TargetObject);
        Assert.Equal(JobState.Failed, result.Output[0].BaseObject);
        Assert.Equal(0, _emulator.Server.Counters.AcceptedSubmits);
        Assert.InRange(_emulator.Server.Counters.Requests(EndpointGroup.Submit), 1, 4);
    }

    [Fact]
    public void Persistent_rate_limiting_ends_as_a_RateLimited_limits_error()
    {
        _emulator.Server.Options.Faults.Credits = new FaultProfile { RateLimitFaultProbability = 1, RateLimitRetryAfterSeconds = 1 };
        using var session = _emulator.OpenSession(apiKey: AccountsEmulatorFixture.BusyKey);

        var result = session.Run("Get-SegmindCredit");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.RateLimited", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.LimitsExceeded, error.CategoryInfo.Category);
        Assert.True(_emulator.Server.Counters.Faults(FaultKind.RateLimit) >= 1);
    }

    [Fact]
    public void A_submit_whose_answer_is_lost_is_reported_and_never_sent_again()
    {
        _emulator.Server.Options.Faults.Submit = new FaultProfile { DropConnectionProbability = 1, DropAfterAcceptProbability = 1 };
        using var session = _emulator.OpenSession();

        var result = session.Run($"{Submit} -Prompt 'lost answer'; 'after'");

        var error = Assert.Single(result.Errors);
        Assert.StartsWith("WanAnimate.SubmitOutcomeUnknown", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        Assert.Contains("charged", error.ToString());
        Assert.Contains("not re-sent", error.ToString());
        Assert.Equal("after", result.Output[^1].BaseObject);
        Assert.Equal(1, _emulator.Server.Counters.Requests(EndpointGroup.Submit));
        Assert.Equal(1, _emulator.Server.Counters.AcceptedSubmits);
    }

    [Fact]
    public void Without_any_key_the_cmdlets_stop_with_NoApiKey()
    {
        Assert.Null(Environment.GetEnvironmentVariable("SEGMIND_API_KEY"));
        using var session = _emulator.OpenSession(apiKey: null);

        var error = session.CatchTerminating("Get-SegmindCredit");
        var submitError = session.CatchTerminating($"{Submit} -Prompt 'no key'");

        foreach (var record in new[] { error, submitError })
        {
            Assert.NotNull(record);
            Assert.StartsWith("WanAnimate.NoApiKey", record!.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.AuthenticationError, record.CategoryInfo.Category);
        }

        Assert.Equal(0, _emulator.Server.Counters.TotalRequests);
    }

    [Fact]
    public void The_key_and_address_fall_back_to_the_environment()
    {
        using var session = new PowerShellSession(baseUri: null, apiKey: null);
        try
        {
            var credit = session.Run(
                "$env:SEGMIND_API_KEY = $args[0]; $env:SEGMIND_BASE_URL = $args[1]; Get-SegmindCredit",
                EmulatorFixture.ApiKey,
                _emulator.Server.BaseUri.AbsoluteUri).ThrowOnError();

            Assert.Single(credit.Objects("SegmindCredit"));
        }
        finally
        {
            Environment.SetEnvironmentVariable("SEGMIND_API_KEY", null);
            Environment.SetEnvironmentVariable("SEGMIND_BASE_URL", null);
        }
    }

    [Fact]
    public void The_api_key_never_appears_in_any_stream_error_or_job()
    {
        using var directory = new TemporaryDirectory();
        using var session = new PowerShellSession(_emulator.Server.BaseUri, apiKey: null);
        var secret = AccountsEmulatorFixture.SecretKey;
        var captured = new List<ScriptResult>
        {
            // Success, verbose lines, progress, a FAILED job, a bad row, a missing id, a rate-limited call: every path that writes something.
            session.Run(
                $$"""
                $key = $args[0]
                $rows = @(
                    [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = 'fine' }
                    [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = 'blocked [fail]' }
                    [pscustomobject]@{ InputVideo = 'https://media.example.com/in.mp4'; ReferenceImage = 'https://media.example.com/face.png'; Prompt = '' }
                )
                $rows | New-WanAnimateJob -ApiKey $key -Verbose | Wait-WanAnimateJob -ApiKey $key {{FastPoll}} -Verbose | Save-WanAnimateOutput -ApiKey $key -Directory $args[1] -Verbose
                Get-WanAnimateStatus -RequestId missing-id -ApiKey $key
                Get-SegmindCredit -ApiKey $key
                """,
                secret,
                directory.Path),
            session.Run(
                $$"""
                $key = ConvertTo-SecureString -String $args[0] -AsPlainText -Force -ErrorAction SilentlyContinue
                if (-not $key) { $key = $args[0] }
                $job = Invoke-WanAnimate -InputVideo https://media.example.com/in.mp4 -ReferenceImage https://media.example.com/face.png -Prompt 'job [fail]' -ApiKey $key -AsJob {{FastPoll}}
                $null = $job | Wait-Job -Timeout 60
                $job
                Receive-Job $job -Keep
                """,
                secret),
        };

        Assert.Contains(captured[0].Errors, e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.JobFailed", StringComparison.Ordinal));
        Assert.Contains(captured[0].Errors, e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.NotFound", StringComparison.Ordinal));
        Assert.Contains(captured[0].Errors, e => e.FullyQualifiedErrorId.StartsWith("WanAnimate.InvalidArgument", StringComparison.Ordinal));
        Assert.Single(captured[0].Objects("WanAnimateResult"));
        Assert.NotEmpty(captured[0].Verbose);
        var job = captured[1].Output.Select(o => o.BaseObject).OfType<Job>().Single();
        Assert.Equal(JobState.Failed, job.JobStateInfo.State);
        Assert.NotEmpty(captured[1].Errors);

        foreach (var text in captured.SelectMany(Texts).Concat(JobTexts(job)))
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    private static IEnumerable<string> Texts(ScriptResult result)
    {
        foreach (var item in result.Output)
        {
            yield return PSSerializer.Serialize(item, depth: 3);
            yield return item.ToString();
        }

        foreach (var error in result.Errors)
        {
            foreach (var text in ErrorTexts(error))
            {
                yield return text;
            }
        }

        foreach (var record in result.Verbose.Cast<InformationalRecord>().Concat(result.Warnings))
        {
            yield return record.Message;
            yield return record.InvocationInfo?.Line ?? string.Empty;
        }

        foreach (var progress in result.Progress)
        {
            yield return progress.Activity + " " + progress.StatusDescription + " " + progress.CurrentOperation;
        }
    }

    private static IEnumerable<string> ErrorTexts(ErrorRecord error)
    {
        yield return error.ToString();
        yield return error.Exception.ToString();
        yield return error.Exception.Message;
        yield return error.ErrorDetails?.Message ?? string.Empty;
        yield return error.ErrorDetails?.RecommendedAction ?? string.Empty;
        yield return error.CategoryInfo.ToString();
        yield return error.ScriptStackTrace ?? string.Empty;
        yield return error.TargetObject == null ? string.Empty : PSSerializer.Serialize(error.TargetObject, depth: 3);
        var invocation = error.InvocationInfo;
        if (invocation != null)
        {
            yield return invocation.Line ?? string.Empty;
            yield return invocation.PositionMessage ?? string.Empty;
            yield return invocation.MyCommand?.ToString() ?? string.Empty;
            foreach (var bound in invocation.BoundParameters)
            {
                yield return bound.Key + "=" + bound.Value;
                yield return PSSerializer.Serialize(bound.Value, depth: 2);
            }

            foreach (var unbound in invocation.UnboundArguments)
            {
                yield return unbound?.ToString() ?? string.Empty;
            }
        }

        yield return PSSerializer.Serialize(error, depth: 3);
    }

    private static IEnumerable<string> JobTexts(Job job)
    {
        yield return job.Command;
        yield return job.Name;
        yield return job.StatusMessage;
        yield return job.Location;
        yield return PSSerializer.Serialize(job, depth: 2);
        foreach (var error in job.Error)
        {
            foreach (var text in ErrorTexts(error))
            {
                yield return text;
            }
        }

        foreach (var output in job.Output)
        {
            yield return PSSerializer.Serialize(output, depth: 3);
        }

        foreach (var progress in job.Progress)
        {
            yield return progress.StatusDescription;
        }
    }
}
