using System.Globalization;
using System.Text.Json;

namespace Segmind.Emulator;

/// <summary>The routes: Segmind's API, the CDN-like output and asset files, and the /_emulator admin endpoints.</summary>
internal static class EmulatorEndpoints
{
    public const string ApiKeyHeader = "x-api-key";
    public const string ApiKeyItem = "Segmind.Emulator.ApiKey";

    public static void Map(WebApplication app, EmulatorState state)
    {
        app.MapPost("/v2/{slug}", new RequestDelegate(context => SubmitAsync(context, state)));
        app.MapGet("/v2/requests/{id}/status", new RequestDelegate(context => StatusAsync(context, state)));
        app.MapGet("/v2/requests/{id}", new RequestDelegate(context => ResultAsync(context, state)));
        app.MapGet("/v1/get-user-credits", new RequestDelegate(context => CreditsAsync(context, state)));
        app.MapPost("/v1/{slug}", new RequestDelegate(context => SyncRunAsync(context, state)));
        app.MapPost("/upload-asset", new RequestDelegate(context => UploadAsync(context, state)));
        app.MapMethods("/outputs/{file}", new[] { "GET", "HEAD" }, new RequestDelegate(context => OutputAsync(context, state)));
        app.MapMethods("/assets/{id}", new[] { "GET", "HEAD" }, new RequestDelegate(context => AssetAsync(context, state)));

        AdminEndpoints.Map(app, state);
    }

    private static string ApiKey(HttpContext context) => (string)context.Items[ApiKeyItem]!;

    private static string RouteValue(HttpContext context, string name) => context.Request.RouteValues[name] as string ?? string.Empty;

    private static async Task SubmitAsync(HttpContext context, EmulatorState state)
    {
        var accepted = await AcceptAsync(context, state, sync: false).ConfigureAwait(false);
        if (accepted is null)
        {
            return;
        }

        var baseUrl = HttpHelpers.BaseUrl(context.Request);
        var statusUrl = baseUrl + "/v2/requests/" + accepted.Id + "/status";
        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?>
        {
            ["request_id"] = accepted.Id,
            ["status"] = "QUEUED",
            ["status_url"] = statusUrl,
            ["response_url"] = baseUrl + "/v2/requests/" + accepted.Id,
            ["poll_url"] = statusUrl,
        }).ConfigureAwait(false);
    }

    /// <summary>Slug, body, parameters and credits, then the job. Answers the refusal itself and returns null.</summary>
    private static async Task<Job?> AcceptAsync(HttpContext context, EmulatorState state, bool sync)
    {
        var slug = RouteValue(context, "slug");
        if (!string.Equals(slug, WanAnimateParameters.Slug, StringComparison.Ordinal))
        {
            await HttpHelpers.WriteErrorAsync(context, 404, "Model not found: " + slug).ConfigureAwait(false);
            return null;
        }

        using var body = await HttpHelpers.ReadJsonAsync(context, state.Options.MaxSubmitBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return null;
        }

        var input = WanAnimateParameters.Parse(body.RootElement, out var error);
        if (input is null)
        {
            await HttpHelpers.WriteErrorAsync(context, 400, error!).ConfigureAwait(false);
            return null;
        }

        var apiKey = ApiKey(context);
        var cost = CreditLedger.Normalize(state.Options.CostPerJob);
        if (!state.Credits.TryCharge(apiKey, cost, out var remaining))
        {
            await HttpHelpers.WriteErrorAsync(context, 406, string.Create(CultureInfo.InvariantCulture,
                $"Insufficient credits: this job costs {cost} and the balance is {remaining}.")).ConfigureAwait(false);
            return null;
        }

        var failure = FailureFor(input, state);
        var job = state.Scheduler.Enqueue(apiKey, input, cost, failure, sync);
        state.Counters.CountAccepted(job.Id, input.Fingerprint, sync, DateTimeOffset.UtcNow);
        return job;
    }

    private static string? FailureFor(WanAnimateInput input, EmulatorState state)
    {
        var marker = state.Options.FailPromptMarker;
        var flagged = !string.IsNullOrEmpty(marker) && input.Prompt.Contains(marker, StringComparison.OrdinalIgnoreCase);
        return flagged || state.Faults.Chance(state.Options.FailureProbability) ? state.Options.FailureMessage : null;
    }

    private static async Task StatusAsync(HttpContext context, EmulatorState state)
    {
        var id = RouteValue(context, "id");
        var view = state.Scheduler.Find(id);
        if (view is null)
        {
            await NotFoundAsync(context, id).ConfigureAwait(false);
            return;
        }

        var body = new Dictionary<string, object?>
        {
            ["request_id"] = view.RequestId,
            ["status"] = view.StateName,
        };
        if (view.State == JobState.Failed)
        {
            // The outcome and its reason, with the times it spent queued and running (clients plan with them).
            body["error"] = view.Error;
        }

        body["metrics"] = Metrics(view, state.Clock.Now, null);

        await HttpHelpers.WriteJsonAsync(context, view.State == JobState.Failed ? 422 : 200, body).ConfigureAwait(false);
    }

    private static async Task ResultAsync(HttpContext context, EmulatorState state)
    {
        var id = RouteValue(context, "id");
        var job = state.Scheduler.FindJob(id);
        var view = job?.View;
        if (job is null || view is null)
        {
            await NotFoundAsync(context, id).ConfigureAwait(false);
            return;
        }

        if (view.State == JobState.Failed)
        {
            await HttpHelpers.WriteJsonAsync(context, 422, new Dictionary<string, object?>
            {
                ["status"] = "FAILED",
                ["request_id"] = view.RequestId,
                ["error"] = view.Error,
                ["metrics"] = Metrics(view, state.Clock.Now, null),
            }).ConfigureAwait(false);
            return;
        }

        object? output = null;
        if (view.State == JobState.Completed)
        {
            output = job.Input.Base64
                ? OutputVideo.AssetBase64
                : HttpHelpers.BaseUrl(context.Request) + "/outputs/" + view.RequestId + ".mp4";
        }

        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?>
        {
            ["request_id"] = view.RequestId,
            ["status"] = view.StateName,
            ["error"] = null,
            ["metrics"] = Metrics(view, state.Clock.Now, view.State == JobState.Completed ? job.Cost : null),
            ["output"] = output,
        }).ConfigureAwait(false);
    }

    private static Dictionary<string, object?> Metrics(JobView view, double now, decimal? cost)
    {
        var startedAt = view.StartedAt ?? now;
        var metrics = new Dictionary<string, object?>
        {
            ["queue_time"] = Round(Math.Max(0, startedAt - view.SubmittedAt)),
            ["inference_time"] = Round(view.StartedAt is { } started ? Math.Max(0, (view.FinishedAt ?? now) - started) : 0),
        };
        if (cost is { } value)
        {
            metrics["cost"] = value;
        }

        return metrics;
    }

    private static double Round(double seconds) => Math.Round(seconds, 3);

    private static Task NotFoundAsync(HttpContext context, string id) =>
        HttpHelpers.WriteErrorAsync(context, 404, "Request not found or expired: " + id + ". Results are kept for 1 hour.");

    private static async Task SyncRunAsync(HttpContext context, EmulatorState state)
    {
        var job = await AcceptAsync(context, state, sync: true).ConfigureAwait(false);
        if (job is null)
        {
            return;
        }

        JobView view;
        try
        {
            view = await job.Finished.Task.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            // Discarded while running (reset or expiry): the API would have lost it too.
            await NotFoundAsync(context, job.Id).ConfigureAwait(false);
            return;
        }

        var headers = context.Response.Headers;
        headers["x-request-id"] = job.Id;
        if (view.State == JobState.Failed)
        {
            await HttpHelpers.WriteJsonAsync(context, 422, new Dictionary<string, object?>
            {
                ["status"] = "FAILED",
                ["request_id"] = job.Id,
                ["error"] = view.Error,
            }).ConfigureAwait(false);
            return;
        }

        var inferenceSeconds = (view.FinishedAt ?? 0) - (view.StartedAt ?? 0);
        headers["x-cost"] = job.Cost.ToString(CultureInfo.InvariantCulture);
        headers["x-remaining-credits"] = state.Credits.Balance(job.ApiKey).ToString(CultureInfo.InvariantCulture);
        headers["x-generation-time"] = Round(inferenceSeconds).ToString(CultureInfo.InvariantCulture);
        headers["x-seed-value"] = job.Input.Seed.ToString(CultureInfo.InvariantCulture);

        if (job.Input.Base64)
        {
            await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?> { ["image"] = OutputVideo.AssetBase64 }).ConfigureAwait(false);
            return;
        }

        var padding = state.Options.OutputPaddingBytes;
        var length = OutputVideo.Length(padding);
        context.Response.StatusCode = 200;
        context.Response.ContentType = OutputVideo.ContentType;
        context.Response.ContentLength = length;
        await OutputVideo.WriteAsync(context.Response.Body, padding, 0, length, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task CreditsAsync(HttpContext context, EmulatorState state)
    {
        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?>
        {
            ["credits"] = state.Credits.Balance(ApiKey(context)),
            ["free-credits"] = 0,
        }).ConfigureAwait(false);
    }

    private static async Task UploadAsync(HttpContext context, EmulatorState state)
    {
        using var body = await HttpHelpers.ReadJsonAsync(context, state.Options.MaxUploadBodyBytes).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        if (body.RootElement.ValueKind != JsonValueKind.Object
            || !body.RootElement.TryGetProperty("data_urls", out var list)
            || list.ValueKind != JsonValueKind.Array
            || list.GetArrayLength() == 0)
        {
            await HttpHelpers.WriteErrorAsync(context, 400, "data_urls must be a non-empty array of data URLs.").ConfigureAwait(false);
            return;
        }

        // Decode everything first so a bad item stores nothing.
        var decoded = new List<(byte[] Data, string ContentType)>();
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (!TryDecodeDataUrl(item, out var data, out var contentType, out var problem))
            {
                await HttpHelpers.WriteErrorAsync(context, 400, $"data_urls[{index}] {problem}").ConfigureAwait(false);
                return;
            }

            decoded.Add((data, contentType));
            index++;
        }

        var baseUrl = HttpHelpers.BaseUrl(context.Request);
        var urls = decoded.Select(file => baseUrl + "/assets/" + state.Uploads.Add(file.Data, file.ContentType)).ToList();
        var field = state.Options.UploadUrlsField == "urls" ? "urls" : "file_urls";
        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?> { [field] = urls }).ConfigureAwait(false);
    }

    private static bool TryDecodeDataUrl(JsonElement item, out byte[] data, out string contentType, out string problem)
    {
        data = Array.Empty<byte>();
        contentType = string.Empty;
        var text = item.ValueKind == JsonValueKind.String ? item.GetString() ?? string.Empty : string.Empty;
        if (!text.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            problem = "must be a string starting with 'data:'.";
            return false;
        }

        var comma = text.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            problem = "has no ',' before its data.";
            return false;
        }

        var meta = text.Substring(5, comma - 5).Split(';');
        if (meta.Length < 2 || !string.Equals(meta[^1], "base64", StringComparison.OrdinalIgnoreCase))
        {
            problem = "must be base64-encoded (data:<mime>;base64,...).";
            return false;
        }

        if (meta[0].Length == 0 || !meta[0].Contains('/', StringComparison.Ordinal))
        {
            problem = "needs a media type (data:<mime>;base64,...).";
            return false;
        }

        try
        {
            data = Convert.FromBase64String(text.Substring(comma + 1));
        }
        catch (FormatException)
        {
            problem = "is not valid base64.";
            return false;
        }

        if (data.Length == 0)
        {
            problem = "is empty.";
            return false;
        }

        contentType = meta[0].ToLowerInvariant();
        problem = string.Empty;
        return true;
    }

    private static async Task OutputAsync(HttpContext context, EmulatorState state)
    {
        var file = RouteValue(context, "file");
        var id = file.EndsWith(".mp4", StringComparison.OrdinalIgnoreCase) ? file[..^4] : string.Empty;
        var view = id.Length > 0 ? state.Scheduler.Find(id) : null;
        if (view is null || view.State != JobState.Completed)
        {
            await HttpHelpers.WriteErrorAsync(context, 404, "Output not found: " + file).ConfigureAwait(false);
            return;
        }

        var padding = state.Options.OutputPaddingBytes;
        var length = OutputVideo.Length(padding);
        var response = context.Response;
        response.Headers["Accept-Ranges"] = "bytes";
        response.ContentType = OutputVideo.ContentType;

        long start = 0;
        var count = length;
        if (HttpHelpers.TryParseRange(context.Request.Headers.Range, length, out var rangeStart, out var rangeEnd, out var unsatisfiable))
        {
            if (unsatisfiable)
            {
                response.StatusCode = 416;
                response.Headers["Content-Range"] = "bytes */" + length.ToString(CultureInfo.InvariantCulture);
                response.ContentLength = 0;
                return;
            }

            start = rangeStart;
            count = rangeEnd - rangeStart + 1;
            response.StatusCode = 206;
            response.Headers["Content-Range"] = string.Create(CultureInfo.InvariantCulture, $"bytes {rangeStart}-{rangeEnd}/{length}");
        }
        else
        {
            response.StatusCode = 200;
        }

        response.ContentLength = count;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        await OutputVideo.WriteAsync(response.Body, padding, start, count, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task AssetAsync(HttpContext context, EmulatorState state)
    {
        var id = RouteValue(context, "id");
        if (!state.Uploads.TryGet(id, out var data, out var contentType))
        {
            await HttpHelpers.WriteErrorAsync(context, 404, "Asset not found: " + id).ConfigureAwait(false);
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = data.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(data, context.RequestAborted).ConfigureAwait(false);
        }
    }
}
