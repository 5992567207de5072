namespace Segmind.Emulator;

/// <summary>
/// What stands in front of every Segmind endpoint: counting, injected faults, the API key and the rate limit.
/// /_emulator and unknown paths pass straight through, never faulted or counted.
/// </summary>
internal static class EmulatorMiddleware
{
    public static async Task InvokeAsync(HttpContext context, RequestDelegate next, EmulatorState state, CancellationToken stopping)
    {
        var group = Classify(context.Request);
        if (group is not { } endpointGroup)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var counters = state.Counters;
        counters.CountRequest(endpointGroup);
        var decision = state.Faults.Decide(endpointGroup, state.Options.Faults);

        if (decision.Delay > TimeSpan.Zero)
        {
            counters.CountFault(FaultKind.SlowResponse);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            try
            {
                await Task.Delay(decision.Delay, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                context.Abort();
                return;
            }
        }

        switch (decision.Action)
        {
            case FaultAction.RateLimit:
                counters.CountFault(FaultKind.RateLimit);
                await HttpHelpers.WriteRateLimitedAsync(context, TimeSpan.FromSeconds(decision.RetryAfterSeconds), "Rate limit exceeded", HintNow(state), decision.RetryAfterStyle).ConfigureAwait(false);
                counters.CountResponse(429);
                return;
            case FaultAction.ServerError:
                counters.CountFault(FaultKind.ServerError);
                await WriteServerErrorAsync(context, decision.StatusCode).ConfigureAwait(false);
                counters.CountResponse(decision.StatusCode);
                return;
            case FaultAction.DropBeforeAccept:
                counters.CountFault(FaultKind.DropBeforeAccept);
                context.Abort();
                return;
        }

        if (IsApi(endpointGroup) && !await AdmitAsync(context, state, endpointGroup).ConfigureAwait(false))
        {
            counters.CountResponse(context.Response.StatusCode);
            return;
        }

        if (decision.Action == FaultAction.DropAfterAccept)
        {
            // Let the request take full effect (a submit is accepted and charged), then lose the answer.
            context.Response.Body = Stream.Null;
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                counters.CountFault(FaultKind.DropAfterAccept);
                context.Abort();
            }

            return;
        }

        await next(context).ConfigureAwait(false);
        if (!context.RequestAborted.IsCancellationRequested)
        {
            counters.CountResponse(context.Response.StatusCode);
        }
    }

    /// <summary>API key (401/403) and the per-key rate limit (429). Answers a refusal itself and returns false.</summary>
    private static async Task<bool> AdmitAsync(HttpContext context, EmulatorState state, EndpointGroup group)
    {
        var options = state.Options;
        var key = context.Request.Headers[EmulatorEndpoints.ApiKeyHeader].ToString().Trim();
        if (key.Length > 0 && options.ForbiddenKeys.Contains(key, StringComparer.Ordinal))
        {
            await HttpHelpers.WriteErrorAsync(context, 403, "Forbidden: this API key may not use this endpoint.").ConfigureAwait(false);
            return false;
        }

        if (key.Length == 0 || !options.ApiKeys.Contains(key, StringComparer.Ordinal))
        {
            await HttpHelpers.WriteErrorAsync(context, 401, key.Length == 0
                ? "Unauthorized: the x-api-key header is missing."
                : "Unauthorized: the API key is not valid.").ConfigureAwait(false);
            return false;
        }

        var counted = options.RateLimitedEndpoints is not { Count: > 0 } only || only.Contains(group);
        if (counted && !state.RateLimiter.TryAcquire(key, options.RequestsPerMinute, state.Clock.Now, out var retryAfterEmulated))
        {
            var hint = options.HintsInEmulatedTime ? TimeSpan.FromSeconds(retryAfterEmulated) : state.Clock.ToReal(retryAfterEmulated);
            await HttpHelpers.WriteRateLimitedAsync(context, hint, "Rate limit exceeded", HintNow(state)).ConfigureAwait(false);
            return false;
        }

        context.Items[EmulatorEndpoints.ApiKeyItem] = key;
        return true;
    }

    /// <summary>The clock Retry-After dates and x-rate-limit-reset-at-utc are stated on.</summary>
    private static DateTimeOffset HintNow(EmulatorState state) =>
        state.Options.HintsInEmulatedTime ? state.Clock.EmulatedUtcNow : DateTimeOffset.UtcNow;

    private static Task WriteServerErrorAsync(HttpContext context, int statusCode)
    {
        // Gateways answer 502/504 with HTML, as a proxy in front of the API would; the app itself answers JSON.
        if (statusCode is 502 or 504)
        {
            var title = statusCode == 502 ? "502 Bad Gateway" : "504 Gateway Time-out";
            var html = "<html><head><title>" + title + "</title></head><body><center><h1>" + title + "</h1></center></body></html>\n";
            context.Response.StatusCode = statusCode;
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync(html, context.RequestAborted);
        }

        return HttpHelpers.WriteErrorAsync(context, statusCode, statusCode == 503
            ? "Service temporarily unavailable, please retry."
            : "Internal server error.");
    }

    private static bool IsApi(EndpointGroup group) => group is not (EndpointGroup.Output or EndpointGroup.Asset);

    /// <summary>Which Segmind endpoint a request is for, or null for admin and unknown paths.</summary>
    internal static EndpointGroup? Classify(HttpRequest request)
    {
        var path = request.Path.Value ?? string.Empty;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length == 0)
        {
            return null;
        }

        var method = request.Method;
        var isGet = HttpMethods.IsGet(method);
        var isGetOrHead = isGet || HttpMethods.IsHead(method);
        var isPost = HttpMethods.IsPost(method);
        return segments switch
        {
            ["v2", "requests", _, "status"] when isGet => EndpointGroup.Status,
            ["v2", "requests", _] when isGet => EndpointGroup.Result,
            ["v2", _] when isPost => EndpointGroup.Submit,
            ["v1", "get-user-credits"] when isGet => EndpointGroup.Credits,
            ["v1", _] when isPost => EndpointGroup.Sync,
            ["upload-asset"] when isPost => EndpointGroup.Upload,
            ["outputs", _] when isGetOrHead => EndpointGroup.Output,
            ["assets", _] when isGetOrHead => EndpointGroup.Asset,
            _ => null,
        };
    }
}
