using System;
using System.Collections.Generic;
using System.Text.Json;
using Segmind.Client.Json;

namespace Segmind.Client.Http
{
    /// <summary>Reads the models out of answer bodies, leniently: unknown fields are ignored, required ones checked.</summary>
    internal static class ResponseParser
    {
        /// <summary>
        /// THE USABLE-ANSWER RULE: a 2xx answer to a submit means the job was accepted (and charged). When this client
        /// cannot use it (not JSON, no request id, no job addresses) the outcome is unknown, never "not submitted", so
        /// nothing re-sends it; whatever id the answer still shows is kept. Job addresses that name another host than
        /// the API's are replaced by the ones built from the base address (the key goes nowhere else).
        /// </summary>
        public static SubmittedJob Submitted(ApiResponse response, Uri baseUri, DateTimeOffset now, Func<Uri, bool> isApiHost, Action<string, Uri, string> ignored)
        {
            using (var document = JsonValues.TryParse(response.Body))
            {
                if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw Unusable(response, "is not a JSON object", SalvageId(response.Body));
                }

                var root = document.RootElement;
                var requestId = JsonValues.GetString(root, "request_id")?.Trim();
                var statusText = JsonValues.GetString(root, "status_url");
                var responseText = JsonValues.GetString(root, "response_url");
                var statusUrl = string.IsNullOrWhiteSpace(statusText) ? null : TryUrl(statusText!, baseUri);
                var responseUrl = string.IsNullOrWhiteSpace(responseText) ? null : TryUrl(responseText!, baseUri);
                var missing = new List<string>();
                if (string.IsNullOrEmpty(requestId)) missing.Add("request_id");
                if (string.IsNullOrWhiteSpace(statusText)) missing.Add("status_url");
                if (string.IsNullOrWhiteSpace(responseText)) missing.Add("response_url");
                if (missing.Count > 0)
                {
                    throw Unusable(response, "lacks " + string.Join(", ", missing), string.IsNullOrEmpty(requestId) ? IdFromUrl(statusUrl) ?? IdFromUrl(responseUrl) : requestId);
                }

                if (statusUrl is null || responseUrl is null)
                {
                    throw Unusable(response, $"has a '{(statusUrl is null ? "status_url" : "response_url")}' that is not an http(s) URL", requestId);
                }

                var status = JsonValues.GetString(root, "status");
                var pollUrl = JsonValues.GetString(root, "poll_url");
                var poll = string.IsNullOrWhiteSpace(pollUrl) ? null : TryUrl(pollUrl!, baseUri);
                return new SubmittedJob(
                    requestId!,
                    string.IsNullOrWhiteSpace(status) ? JobState.Queued : status!,
                    OnApiHost(statusUrl, "StatusUrl", new Uri(baseUri, "v2/requests/" + Uri.EscapeDataString(requestId!) + "/status"), requestId!, isApiHost, ignored),
                    OnApiHost(responseUrl, "ResponseUrl", new Uri(baseUri, "v2/requests/" + Uri.EscapeDataString(requestId!)), requestId!, isApiHost, ignored),
                    poll != null && isApiHost(poll) ? poll : null,
                    now);
            }
        }

        /// <summary>An accepted submit whose answer cannot be used: the job may exist, and <paramref name="salvagedId"/> is its id when the answer showed one.</summary>
        public static SegmindSubmitOutcomeUnknownException Unusable(ApiResponse response, string problem, string? salvagedId)
        {
            var which = salvagedId is null ? "no request id could be read from it" : $"it names request id '{salvagedId}'";
            return new SegmindSubmitOutcomeUnknownException(
                $"Segmind accepted the submit ({ErrorMapper.Label(response.StatusCode, response.Reason)}) but its answer {problem} ({which}); the job may have been created and charged, and it is not re-sent automatically because every submit creates a new paid job.",
                response.StatusCode,
                salvagedId,
                null,
                null);
        }

        private static Uri OnApiHost(Uri given, string field, Uri built, string requestId, Func<Uri, bool> isApiHost, Action<string, Uri, string> ignored)
        {
            if (isApiHost(given))
            {
                return given;
            }

            ignored(field, given, requestId);
            return built;
        }

        private static readonly System.Text.RegularExpressions.Regex QuotedId = new System.Text.RegularExpressions.Regex(
            "\"request_id\"\\s*:\\s*\"([A-Za-z0-9._:-]{1,200})\"",
            System.Text.RegularExpressions.RegexOptions.CultureInvariant);

        /// <summary>A request id from an answer that is not JSON (cut short, or garbled around it).</summary>
        private static string? SalvageId(byte[] body)
        {
            var text = System.Text.Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 64 * 1024));
            var match = QuotedId.Match(text);
            return match.Success ? match.Groups[1].Value : null;
        }

        /// <summary>The id in a job address of the documented form <c>.../requests/{id}[/status]</c>.</summary>
        private static string? IdFromUrl(Uri? url)
        {
            if (url is null)
            {
                return null;
            }

            var segments = url.AbsolutePath.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries);
            for (var i = 0; i + 1 < segments.Length; i++)
            {
                if (string.Equals(segments[i], "requests", StringComparison.OrdinalIgnoreCase))
                {
                    var id = Uri.UnescapeDataString(segments[i + 1]).Trim();
                    return id.Length == 0 ? null : id;
                }
            }

            return null;
        }

        public static JobStatus Status(ApiResponse response, string requestId, ApiKey key, DateTimeOffset now)
        {
            using (var document = Parse(response, requestId, "status"))
            {
                var root = document.RootElement;
                var status = State(response, root, requestId, "status");
                var error = status == JobState.Failed ? ErrorText(root) : JsonValues.GetString(root, "error");
                return new JobStatus(
                    IdOf(root, requestId),
                    status,
                    SegmindClient.Redact(error, key),
                    JsonValues.GetObject(root, "metrics"),
                    now);
            }
        }

        public static JobResult Result(ApiResponse response, string requestId, ApiKey key, DateTimeOffset now)
        {
            using (var document = Parse(response, requestId, "result"))
            {
                var root = document.RootElement;
                var status = State(response, root, requestId, "result");
                var error = status == JobState.Failed ? ErrorText(root) : JsonValues.GetString(root, "error");
                return new JobResult(
                    IdOf(root, requestId),
                    status,
                    SegmindClient.Redact(error, key),
                    JsonValues.GetObject(root, "metrics"),
                    Output(root),
                    now);
            }
        }

        public static CreditBalance Credits(ApiResponse response, DateTimeOffset now)
        {
            using (var document = JsonValues.TryParse(response.Body))
            {
                if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new SegmindProtocolException("Segmind's credit balance answer is not a JSON object.", response.StatusCode);
                }

                var root = document.RootElement;
                var credits = JsonValues.GetNumber(root, "credits");
                if (!credits.HasValue)
                {
                    throw new SegmindProtocolException("Segmind's credit balance answer has no 'credits' number.", response.StatusCode);
                }

                var free = JsonValues.GetNumber(root, "free-credits") ?? JsonValues.GetNumber(root, "free_credits") ?? 0;
                return new CreditBalance(credits.Value, free, now);
            }
        }

        /// <summary>The hosted URLs of an upload, from <c>file_urls</c> or <c>urls</c> (or a bare array).</summary>
        public static IReadOnlyList<Uri> UploadedUrls(ApiResponse response, int expected)
        {
            using (var document = JsonValues.TryParse(response.Body))
            {
                if (document is null)
                {
                    throw new SegmindProtocolException("The upload answer is not JSON.", response.StatusCode);
                }

                var root = document.RootElement;
                JsonElement list;
                if (root.ValueKind == JsonValueKind.Array)
                {
                    list = root;
                }
                else if (!(JsonValues.TryGetProperty(root, "file_urls", out list) && list.ValueKind == JsonValueKind.Array)
                    && !(JsonValues.TryGetProperty(root, "urls", out list) && list.ValueKind == JsonValueKind.Array))
                {
                    throw new SegmindProtocolException("The upload answer has neither 'file_urls' nor 'urls'.", response.StatusCode);
                }

                var urls = new List<Uri>();
                foreach (var item in list.EnumerateArray())
                {
                    var text = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
                    if (string.IsNullOrWhiteSpace(text)
                        || !Uri.TryCreate(text!.Trim(), UriKind.Absolute, out var uri)
                        || !UriRules.IsHttp(uri))
                    {
                        throw new SegmindProtocolException("The upload answer holds an entry that is not an absolute http(s) URL.", response.StatusCode);
                    }

                    urls.Add(uri);
                }

                if (urls.Count != expected)
                {
                    throw new SegmindProtocolException($"The upload answer lists {urls.Count} URL(s) for {expected} file(s).", response.StatusCode);
                }

                return urls;
            }
        }

        /// <summary>True when a 422 body says the job ended FAILED (rather than refusing the parameters).</summary>
        public static bool TryFailedJob(ApiResponse response, out string? requestId, out string? error)
        {
            requestId = null;
            error = null;
            using (var document = JsonValues.TryParse(response.Body))
            {
                if (document is null || JsonValues.GetString(document.RootElement, "status")?.Trim() != JobState.Failed)
                {
                    return false;
                }

                var id = JsonValues.GetString(document.RootElement, "request_id");
                requestId = string.IsNullOrWhiteSpace(id) ? null : id!.Trim();
                error = ErrorText(document.RootElement);
                return true;
            }
        }

        private static JsonDocument Parse(ApiResponse response, string requestId, string what)
        {
            var document = JsonValues.TryParse(response.Body);
            if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
            {
                document?.Dispose();
                throw new SegmindProtocolException($"Segmind's {what} answer for job '{requestId}' is not a JSON object.", response.StatusCode, requestId);
            }

            return document;
        }

        /// <summary>The state as sent. A 422 is a FAILED job even when the body forgot to say so; an unknown state is kept raw.</summary>
        private static string State(ApiResponse response, JsonElement root, string requestId, string what)
        {
            var status = JsonValues.GetString(root, "status")?.Trim();
            if (response.StatusCode == 422)
            {
                if (status is null || status.Length == 0 || status == JobState.Failed)
                {
                    return JobState.Failed;
                }

                throw new SegmindProtocolException($"Segmind answered 422 for the {what} of job '{requestId}' with the state '{status}' instead of FAILED.", 422, requestId);
            }

            if (string.IsNullOrEmpty(status))
            {
                throw new SegmindProtocolException($"Segmind's {what} answer for job '{requestId}' has no 'status'.", response.StatusCode, requestId);
            }

            return KnownState(status!);
        }

        /// <summary>The shared constant for a documented state, so a job followed for an hour keeps no copy of its own.</summary>
        private static string KnownState(string status)
        {
            switch (status)
            {
                case JobState.Queued:
                    return JobState.Queued;
                case JobState.Processing:
                    return JobState.Processing;
                case JobState.Completed:
                    return JobState.Completed;
                case JobState.Failed:
                    return JobState.Failed;
                default:
                    return status;
            }
        }

        private static string IdOf(JsonElement root, string requestId)
        {
            var fromBody = JsonValues.GetString(root, "request_id");
            return string.IsNullOrWhiteSpace(fromBody) ? requestId : fromBody!.Trim();
        }

        /// <summary>A failed job's reason: the error field in full when it is text, else whatever the body says.</summary>
        private static string? ErrorText(JsonElement root)
        {
            var error = JsonValues.GetString(root, "error");
            if (!string.IsNullOrWhiteSpace(error))
            {
                return error!.Trim();
            }

            return ServerMessage.FromJson(root);
        }

        private static string? Output(JsonElement root)
        {
            if (!JsonValues.TryGetProperty(root, "output", out var output))
            {
                return null;
            }

            switch (output.ValueKind)
            {
                case JsonValueKind.String:
                    var text = output.GetString();
                    return string.IsNullOrWhiteSpace(text) ? null : text!.Trim();
                case JsonValueKind.Array:
                    // Some models answer a list of outputs; a video job has one.
                    foreach (var item in output.EnumerateArray())
                    {
                        if (item.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(item.GetString()))
                        {
                            return item.GetString()!.Trim();
                        }
                    }

                    return null;
                default:
                    return null;
            }
        }

        private static Uri? TryUrl(string text, Uri baseUri)
        {
            var trimmed = text.Trim();
            if (Uri.TryCreate(trimmed, UriKind.Absolute, out var absolute) && UriRules.IsHttp(absolute))
            {
                return absolute;
            }

            // Documented as absolute; a relative one is read against the base rather than refused.
            if (!trimmed.StartsWith("/", StringComparison.Ordinal) || !Uri.TryCreate(baseUri, trimmed, out var resolved) || !UriRules.IsHttp(resolved))
            {
                return null;
            }

            return resolved;
        }
    }
}
