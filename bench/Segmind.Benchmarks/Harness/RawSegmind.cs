using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Segmind.Benchmarks.Harness;

/// <summary>A submitted job as a plain HTTP client sees it.</summary>
public sealed record RawJob(string RequestId, Uri StatusUrl, Uri ResponseUrl);

/// <summary>
/// The baselines: what a script with nothing but an HttpClient does. Submit is one POST; waiting is the fixed-interval
/// loop of the official Python SDK (status, wait, status... then the result). No retries, no pacing.
/// </summary>
public sealed class RawSegmindClient : IDisposable
{
    private readonly HttpClient _http;

    public RawSegmindClient(Uri baseUri, string apiKey)
    {
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = baseUri,
            Timeout = TimeSpan.FromSeconds(100),
        };
        _http.DefaultRequestHeaders.Add("x-api-key", apiKey);
    }

    public async Task<RawJob> SubmitAsync(IReadOnlyDictionary<string, object?> parameters, CancellationToken cancellationToken = default)
    {
        using var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(parameters));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        using var response = await _http.PostAsync("v2/wan-animate", content, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException("Submit answered " + (int)response.StatusCode + ".");
        }

        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        return new RawJob(
            root.GetProperty("request_id").GetString() ?? throw new InvalidOperationException("No request_id."),
            new Uri(root.GetProperty("status_url").GetString() ?? throw new InvalidOperationException("No status_url.")),
            new Uri(root.GetProperty("response_url").GetString() ?? throw new InvalidOperationException("No response_url.")));
    }

    /// <summary>Submits every row with at most <paramref name="concurrency"/> POSTs in flight (a SemaphoreSlim).</summary>
    public async Task<RawJob[]> SubmitAllAsync(IReadOnlyList<IReadOnlyDictionary<string, object?>> rows, int concurrency, CancellationToken cancellationToken = default)
    {
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        var jobs = new RawJob[rows.Count];
        var tasks = new Task[rows.Count];
        for (var i = 0; i < rows.Count; i++)
        {
            tasks[i] = SubmitOneAsync(i);
        }

        await Task.WhenAll(tasks).ConfigureAwait(false);
        return jobs;

        async Task SubmitOneAsync(int index)
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                jobs[index] = await SubmitAsync(rows[index], cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }
    }

    /// <summary>
    /// The Python SDK's wait: GET the status, and while it is not final wait <paramref name="interval"/> and ask again;
    /// on COMPLETED GET the result. Returns when the result is in hand. Bounded by <paramref name="deadline"/>.
    /// Polls land on a fixed grid (start + k × interval) rather than sleeping the interval after each answer: many
    /// sleep-after loops in one process fall into step after any pause (a GC, a busy thread pool) and stay there,
    /// which would make every job of a run see the same delay.
    /// </summary>
    public async Task<DateTimeOffset> WaitFixedAsync(RawJob job, TimeSpan interval, DateTimeOffset deadline, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (long tick = 1; DateTimeOffset.UtcNow < deadline; tick++)
        {
            var status = await GetStateAsync(job.StatusUrl, cancellationToken).ConfigureAwait(false);
            if (status == "COMPLETED")
            {
                var result = await GetStateAsync(job.ResponseUrl, cancellationToken).ConfigureAwait(false);
                if (result == "COMPLETED")
                {
                    return DateTimeOffset.UtcNow;
                }
            }
            else if (status == "FAILED")
            {
                throw new InvalidOperationException("Job " + job.RequestId + " failed.");
            }

            // A poll that ran late skips the grid points it missed instead of catching up with a burst.
            tick = Math.Max(tick, clock.Elapsed.Ticks / interval.Ticks);
            var wait = TimeSpan.FromTicks((tick * interval.Ticks) - clock.Elapsed.Ticks);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException("Job " + job.RequestId + " did not complete before the deadline.");
    }

    /// <summary>The <c>status</c> of a status or result answer (FAILED comes as 422 and is still an answer).</summary>
    private async Task<string> GetStateAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK && (int)response.StatusCode != 422)
        {
            throw new InvalidOperationException("GET " + uri.AbsolutePath + " answered " + (int)response.StatusCode + ".");
        }

        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("status").GetString() ?? string.Empty;
    }

    public void Dispose() => _http.Dispose();
}
