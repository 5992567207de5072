using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.Net.Http.Headers;

namespace Segmind.Emulator;

internal static class HttpHelpers
{
    private static readonly JsonSerializerOptions JsonOptions = new();

    /// <summary>The absolute address clients reached this server at, so returned URLs work on any port.</summary>
    public static string BaseUrl(HttpRequest request) => request.Scheme + "://" + request.Host.Value + request.PathBase.Value;

    public static async Task WriteJsonAsync(HttpContext context, int statusCode, object payload)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(payload, payload.GetType(), JsonOptions);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    public static Task WriteErrorAsync(HttpContext context, int statusCode, string message) =>
        WriteJsonAsync(context, statusCode, new Dictionary<string, object?> { ["error"] = message });

    /// <summary>HTTP-date-free UTC stamp with milliseconds, as <c>x-rate-limit-reset-at-utc</c> carries it.</summary>
    public static string UtcStamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A 429 with its hints; <c>now</c> is the clock they are stated on (real, or emulated with HintsInEmulatedTime).</summary>
    public static async Task WriteRateLimitedAsync(HttpContext context, TimeSpan retryAfter, string message, DateTimeOffset now, RetryAfterStyle style = RetryAfterStyle.Seconds)
    {
        // Whole seconds, rounded up and at least 1, so a client that waits as told is never early.
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        var resetAt = now + TimeSpan.FromSeconds(Math.Max(retryAfter.TotalSeconds, 0));
        var headers = context.Response.Headers;
        switch (style)
        {
            case RetryAfterStyle.Seconds:
                headers["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture);
                headers["x-rate-limit-reset-at-utc"] = UtcStamp(resetAt);
                break;
            case RetryAfterStyle.HttpDate:
                // HTTP-dates have whole seconds: round up so the date is not before the real reset.
                headers["Retry-After"] = now.AddSeconds(seconds + 1).ToString("R", CultureInfo.InvariantCulture);
                headers["x-rate-limit-reset-at-utc"] = UtcStamp(resetAt);
                break;
            case RetryAfterStyle.ResetHeaderOnly:
                headers["x-rate-limit-reset-at-utc"] = UtcStamp(resetAt);
                break;
        }

        await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, message).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads a JSON body of at most <paramref name="limit"/> bytes. On failure it has already answered
    /// (406 not JSON, 413 too large) and returns null.
    /// </summary>
    public static async Task<JsonDocument?> ReadJsonAsync(HttpContext context, long limit)
    {
        var request = context.Request;
        if (!IsJsonContentType(request.ContentType))
        {
            await WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, "Invalid content type: send the parameters as application/json.").ConfigureAwait(false);
            return null;
        }

        if (request.ContentLength > limit)
        {
            await WriteTooLargeAsync(context, limit).ConfigureAwait(false);
            return null;
        }

        using var buffer = new MemoryStream(request.ContentLength is { } length ? (int)Math.Min(length, limit) : 4096);
        var chunk = ArrayPool<byte>.Shared.Rent(81920);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    await WriteTooLargeAsync(context, limit).ConfigureAwait(false);
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException)
        {
            await WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, "Invalid content type: the body is not valid JSON.").ConfigureAwait(false);
            return null;
        }
    }

    private static Task WriteTooLargeAsync(HttpContext context, long limit) =>
        WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large: the limit is " + limit.ToString(CultureInfo.InvariantCulture) + " bytes.");

    private static bool IsJsonContentType(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || !mediaType.MediaType.HasValue)
        {
            return false;
        }

        var type = mediaType.MediaType.Value;
        return string.Equals(type, "application/json", StringComparison.OrdinalIgnoreCase)
            || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// One <c>Range: bytes=...</c> of a file of <paramref name="length"/> bytes. Returns false to serve the whole file
    /// (no header, several ranges, or a malformed one, which HTTP says to ignore).
    /// </summary>
    public static bool TryParseRange(string? header, long length, out long start, out long end, out bool unsatisfiable)
    {
        start = 0;
        end = length - 1;
        unsatisfiable = false;
        if (string.IsNullOrWhiteSpace(header) || !header.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var spec = header.Substring(6).Trim();
        if (spec.Contains(',', StringComparison.Ordinal))
        {
            return false;
        }

        var dash = spec.IndexOf('-', StringComparison.Ordinal);
        if (dash < 0)
        {
            return false;
        }

        var first = spec.Substring(0, dash).Trim();
        var last = spec.Substring(dash + 1).Trim();
        if (first.Length == 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var suffix)) return false;
            if (suffix == 0 || length == 0)
            {
                unsatisfiable = true;
                return true;
            }

            start = Math.Max(0, length - suffix);
            return true;
        }

        if (!long.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out start)) return false;
        if (last.Length > 0)
        {
            if (!long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var lastByte) || lastByte < start) return false;
            end = Math.Min(lastByte, length - 1);
        }

        if (start >= length)
        {
            unsatisfiable = true;
        }

        return true;
    }
}
