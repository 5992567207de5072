using System.Text.Json;
using System.Text.Json.Serialization;

namespace Segmind.Emulator;

/// <summary>
/// <c>/_emulator/...</c>: what a test driving the emulator over HTTP (rather than in-process) needs. No key, never
/// faulted, never counted.
/// </summary>
internal static class AdminEndpoints
{
    private static readonly JsonSerializerOptions OptionsJson = new() { Converters = { new JsonStringEnumConverter() } };

    public static void Map(WebApplication app, EmulatorState state)
    {
        app.MapGet("/_emulator/health", new RequestDelegate(context => HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?> { ["status"] = "ok" })));
        app.MapGet("/_emulator/counters", new RequestDelegate(context => CountersAsync(context, state)));
        app.MapPost("/_emulator/reset", new RequestDelegate(context =>
        {
            state.Reset();
            return HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?> { ["status"] = "reset" });
        }));
        app.MapGet("/_emulator/options", new RequestDelegate(context => WriteOptionsAsync(context, state.Options)));
        app.MapPost("/_emulator/options", new RequestDelegate(context => ChangeOptionsAsync(context, state)));
        app.MapGet("/_emulator/jobs/{id}", new RequestDelegate(context => JobAsync(context, state)));
        app.MapPost("/_emulator/jobs/{id}/complete", new RequestDelegate(context => JobActionAsync(context, state, complete: true)));
        app.MapPost("/_emulator/jobs/{id}/expire", new RequestDelegate(context => JobActionAsync(context, state, complete: false)));
        app.MapPost("/_emulator/credits", new RequestDelegate(context => SetCreditsAsync(context, state)));
    }

    private static async Task CountersAsync(HttpContext context, EmulatorState state)
    {
        var body = state.Counters.ToJsonObject();
        body["queued_jobs"] = state.Scheduler.QueuedCount;
        body["processing_jobs"] = state.Scheduler.ProcessingCount;
        body["retained_jobs"] = state.Scheduler.RetainedCount;
        body["uploaded_assets"] = state.Uploads.Count;
        body["emulated_seconds"] = Math.Round(state.Clock.Now, 3);
        body["time_scale"] = state.Clock.Scale;
        await HttpHelpers.WriteJsonAsync(context, 200, body).ConfigureAwait(false);
    }

    private static async Task WriteOptionsAsync(HttpContext context, EmulatorOptions options)
    {
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(options, OptionsJson));
        await HttpHelpers.WriteJsonAsync(context, 200, document.RootElement.Clone()).ConfigureAwait(false);
    }

    /// <summary>
    /// Merges a JSON object of option names (as in <c>GET /_emulator/options</c>) into the live options, e.g.
    /// <c>{"TimeScale":0.01,"Faults":{"Submit":{"ServerErrorProbability":1}}}</c>. Checked on a copy first, so a
    /// bad change leaves everything as it was.
    /// </summary>
    private static async Task ChangeOptionsAsync(HttpContext context, EmulatorState state)
    {
        using var body = await HttpHelpers.ReadJsonAsync(context, 1024 * 1024).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            await HttpHelpers.WriteErrorAsync(context, 400, "Send a JSON object of option names and values.").ConfigureAwait(false);
            return;
        }

        foreach (var fixedOption in new[] { nameof(EmulatorOptions.Urls), nameof(EmulatorOptions.AllowRemote) })
        {
            if (body.RootElement.EnumerateObject().Any(p => string.Equals(p.Name, fixedOption, StringComparison.OrdinalIgnoreCase)))
            {
                await HttpHelpers.WriteErrorAsync(context, 400, fixedOption + " cannot change while the server runs.").ConfigureAwait(false);
                return;
            }
        }

        var configuration = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(JsonSerializer.SerializeToUtf8Bytes(body.RootElement)))
            .Build();

        var trial = JsonSerializer.Deserialize<EmulatorOptions>(JsonSerializer.SerializeToUtf8Bytes(state.Options, OptionsJson), OptionsJson)!;
        try
        {
            Apply(configuration, trial);
        }
        catch (InvalidOperationException error)
        {
            await HttpHelpers.WriteErrorAsync(context, 400, error.Message).ConfigureAwait(false);
            return;
        }

        var problem = trial.Validate();
        if (problem is not null)
        {
            await HttpHelpers.WriteErrorAsync(context, 400, problem).ConfigureAwait(false);
            return;
        }

        Apply(configuration, state.Options);
        if (configuration[nameof(EmulatorOptions.FaultSeed)] is not null)
        {
            state.Faults.Reseed(state.Options.FaultSeed);
        }

        await WriteOptionsAsync(context, state.Options).ConfigureAwait(false);
    }

    private static void Apply(IConfiguration configuration, EmulatorOptions options)
    {
        // The binder appends to lists, so a list that is given replaces the current one.
        if (configuration.GetSection(nameof(EmulatorOptions.ApiKeys)).GetChildren().Any()) options.ApiKeys = new List<string>();
        if (configuration.GetSection(nameof(EmulatorOptions.ForbiddenKeys)).GetChildren().Any()) options.ForbiddenKeys = new List<string>();
        configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
    }

    private static async Task JobAsync(HttpContext context, EmulatorState state)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var view = state.Scheduler.Find(id);
        if (view is null)
        {
            await HttpHelpers.WriteErrorAsync(context, 404, "Request not found or expired: " + id).ConfigureAwait(false);
            return;
        }

        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?>
        {
            ["request_id"] = view.RequestId,
            ["status"] = view.StateName,
            ["submitted_at"] = view.SubmittedAt,
            ["started_at"] = view.StartedAt,
            ["finished_at"] = view.FinishedAt,
            ["expires_at"] = view.ExpiresAt,
            ["error"] = view.Error,
            ["accepted_at_utc"] = state.Counters.AcceptedAt(id) is { } accepted ? HttpHelpers.UtcStamp(accepted) : null,
            ["finished_at_utc"] = state.Counters.FinishedAt(id) is { } finished ? HttpHelpers.UtcStamp(finished) : null,
        }).ConfigureAwait(false);
    }

    private static async Task JobActionAsync(HttpContext context, EmulatorState state, bool complete)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var done = complete ? state.Scheduler.Complete(id) : state.Scheduler.Expire(id);
        if (!done)
        {
            await HttpHelpers.WriteErrorAsync(context, 404, complete
                ? "No queued or running job with id " + id
                : "Request not found or expired: " + id).ConfigureAwait(false);
            return;
        }

        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?> { ["request_id"] = id, ["status"] = complete ? "completed" : "expired" }).ConfigureAwait(false);
    }

    private static async Task SetCreditsAsync(HttpContext context, EmulatorState state)
    {
        using var body = await HttpHelpers.ReadJsonAsync(context, 64 * 1024).ConfigureAwait(false);
        if (body is null)
        {
            return;
        }

        var root = body.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("api_key", out var key) || key.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("credits", out var credits) || !credits.TryGetDecimal(out var amount))
        {
            await HttpHelpers.WriteErrorAsync(context, 400, "Send {\"api_key\": \"...\", \"credits\": <number>}.").ConfigureAwait(false);
            return;
        }

        state.Credits.SetBalance(key.GetString()!, amount);
        await HttpHelpers.WriteJsonAsync(context, 200, new Dictionary<string, object?> { ["api_key"] = key.GetString(), ["credits"] = amount }).ConfigureAwait(false);
    }
}
