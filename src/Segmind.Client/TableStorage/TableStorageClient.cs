using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Segmind.Client.Http;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// Azure Table Storage spoken over the core's own HTTP stack (no Azure SDK, so no Azure.Core to clash with the
    /// copy Az.Accounts loads into a runbook). Only what a journal needs: create the table, read, insert (a conflict
    /// means another writer was first), replace only if the ETag still matches, and query.
    /// </summary>
    /// <remarks>
    /// Reads and writes are repeated on transport failures, 408, 429 and 5xx (bounded). A repeated insert or
    /// replace whose first attempt did land comes back as a conflict; callers tell their own write from another's
    /// by a value they wrote (the journal writes a unique write id). No message carries the credential. Its times are
    /// wall time, not a batch's clock: requests are signed with the date, and leases are judged on the service's clock.
    /// </remarks>
    internal sealed class TableStorageClient
    {
        internal const string ApiVersion = "2019-02-02";
        private const int MaxAttempts = 4;
        private const long MaxAnswerBytes = 8 * 1024 * 1024;

        private readonly TableCredential _credential;
        private readonly Func<TimeSpan, CancellationToken, Task> _delay;

        public TableStorageClient(TableAddress address, TableCredential credential, TimeSpan? attemptTimeout = null, Func<TimeSpan, CancellationToken, Task>? delay = null)
        {
            Address = address ?? throw new ArgumentNullException(nameof(address));
            _credential = credential ?? throw new ArgumentNullException(nameof(credential));
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(30);
            _delay = delay ?? ((wait, token) => Task.Delay(wait, token));
        }

        public TableAddress Address { get; }

        public TimeSpan AttemptTimeout { get; }

        /// <summary>The service's clock minus this machine's, from the last answer's Date header (leases are judged on the service's clock).</summary>
        public TimeSpan ServerClockOffset { get; private set; }

        /// <summary>Now, by the table service's clock (as far as the last answer told).</summary>
        public DateTimeOffset ServerNow => DateTimeOffset.UtcNow + ServerClockOffset;

        private string TableName => Address.TableName;

        /// <summary>Creates the table; false when it already existed.</summary>
        public async Task<bool> CreateTableAsync(CancellationToken cancellationToken)
        {
            var body = Encoding.UTF8.GetBytes("{\"TableName\":\"" + TableName + "\"}");
            var answer = await SendAsync(HttpMethod.Post, "Tables", body, null, "create the table", cancellationToken).ConfigureAwait(false);
            if (answer.Status == 409 && answer.Code == "TableAlreadyExists")
            {
                return false;
            }

            EnsureSuccess(answer, "create the table");
            return true;
        }

        /// <summary>The entity, or null when it does not exist. A missing table is an error (<c>TableNotFound</c>).</summary>
        public async Task<TableEntity?> GetAsync(string partitionKey, string rowKey, CancellationToken cancellationToken)
        {
            var answer = await SendAsync(HttpMethod.Get, EntityPath(partitionKey, rowKey), null, null, "read the journal", cancellationToken).ConfigureAwait(false);
            if (answer.Status == 404 && answer.Code != "TableNotFound")
            {
                return null;
            }

            EnsureSuccess(answer, "read the journal");
            using var document = Parse(answer, "read the journal");
            return TableEntity.FromJson(document.RootElement, answer.ETag);
        }

        /// <summary>Inserts the entity and returns its new ETag; null when an entity with these keys already exists.</summary>
        public async Task<string?> TryInsertAsync(TableEntity entity, CancellationToken cancellationToken)
        {
            var answer = await SendAsync(HttpMethod.Post, TableName, entity.ToJson(), null, "write to the journal", cancellationToken, returnNoContent: true).ConfigureAwait(false);
            if (answer.Status == 409 && answer.Code == "EntityAlreadyExists")
            {
                return null;
            }

            EnsureSuccess(answer, "write to the journal");
            entity.ETag = answer.ETag;
            return answer.ETag;
        }

        /// <summary>
        /// Replaces the entity only if it is still at <paramref name="etag"/>, and returns its new ETag; null when
        /// someone changed (or deleted) it since.
        /// </summary>
        public async Task<string?> TryReplaceAsync(TableEntity entity, string etag, CancellationToken cancellationToken)
        {
            if (string.IsNullOrEmpty(etag))
            {
                throw new ArgumentException("A conditional replace needs the ETag it was read at.", nameof(etag));
            }

            var answer = await SendAsync(HttpMethod.Put, EntityPath(entity.PartitionKey, entity.RowKey), entity.ToJson(), etag, "update the journal", cancellationToken).ConfigureAwait(false);
            if (answer.Status == 412 || (answer.Status == 404 && answer.Code != "TableNotFound"))
            {
                return null;
            }

            EnsureSuccess(answer, "update the journal");
            entity.ETag = answer.ETag;
            return answer.ETag;
        }

        /// <summary>Inserts or replaces the entity whatever its state (needs add and update rights); returns the new ETag.</summary>
        public async Task<string?> UpsertAsync(TableEntity entity, CancellationToken cancellationToken)
        {
            var answer = await SendAsync(HttpMethod.Put, EntityPath(entity.PartitionKey, entity.RowKey), entity.ToJson(), null, "write to the journal", cancellationToken).ConfigureAwait(false);
            EnsureSuccess(answer, "write to the journal");
            entity.ETag = answer.ETag;
            return answer.ETag;
        }

        /// <summary>Every entity matching the OData <paramref name="filter"/>, following continuation tokens.</summary>
        public async Task<IReadOnlyList<TableEntity>> QueryAsync(string filter, CancellationToken cancellationToken)
        {
            var results = new List<TableEntity>();
            string? nextPartition = null;
            string? nextRow = null;
            do
            {
                var path = TableName + "()?$filter=" + Uri.EscapeDataString(filter);
                if (nextPartition != null)
                {
                    path += "&NextPartitionKey=" + Uri.EscapeDataString(nextPartition);
                }

                if (nextRow != null)
                {
                    path += "&NextRowKey=" + Uri.EscapeDataString(nextRow);
                }

                var answer = await SendAsync(HttpMethod.Get, path, null, null, "read the journal", cancellationToken).ConfigureAwait(false);
                EnsureSuccess(answer, "read the journal");
                using (var document = Parse(answer, "read the journal"))
                {
                    if (document.RootElement.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var item in value.EnumerateArray())
                        {
                            results.Add(TableEntity.FromJson(item, null));
                        }
                    }
                }

                nextPartition = answer.NextPartitionKey;
                nextRow = answer.NextRowKey;
            }
            while (nextPartition != null);

            return results;
        }

        /// <summary>An OData string literal: single quotes doubled.</summary>
        public static string Literal(string value) => "'" + value.Replace("'", "''") + "'";

        private string EntityPath(string partitionKey, string rowKey) =>
            TableName + "(PartitionKey=" + Uri.EscapeDataString(Literal(partitionKey)) + ",RowKey=" + Uri.EscapeDataString(Literal(rowKey)) + ")";

        private async Task<TableAnswer> SendAsync(HttpMethod method, string relativePath, byte[]? body, string? ifMatch, string action, CancellationToken cancellationToken, bool returnNoContent = false)
        {
            var uri = new Uri(Address.ServiceUri, relativePath);
            for (var attempt = 1; ; attempt++)
            {
                TableAnswer answer;
                try
                {
                    answer = await SendOnceAsync(method, uri, body, ifMatch, returnNoContent, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception error) when (ApiTransport.IsTransportFailure(error) && !cancellationToken.IsCancellationRequested)
                {
                    if (attempt >= MaxAttempts)
                    {
                        throw new SegmindJournalException(
                            $"Could not {action} at {Address}: no answer from {uri.Host}:{uri.Port} after {MaxAttempts} attempts ({_credential.Redact(error.Message)}).",
                            null,
                            null,
                            null);
                    }

                    await _delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (attempt < MaxAttempts && IsTransient(answer.Status))
                {
                    await _delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                return answer;
            }
        }

        private async Task<TableAnswer> SendOnceAsync(HttpMethod method, Uri uri, byte[]? body, string? ifMatch, bool returnNoContent, CancellationToken cancellationToken)
        {
            var http = HttpClientCache.ForApi(uri);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(AttemptTimeout);
            using var request = new HttpRequestMessage(method, _credential.Authorize(uri));
            var date = TableCredential.FormatDate(DateTimeOffset.UtcNow);
            request.Headers.TryAddWithoutValidation("x-ms-date", date);
            request.Headers.TryAddWithoutValidation("x-ms-version", ApiVersion);
            request.Headers.TryAddWithoutValidation("DataServiceVersion", "3.0;NetFx");
            request.Headers.TryAddWithoutValidation("MaxDataServiceVersion", "3.0;NetFx");
            request.Headers.TryAddWithoutValidation("Accept", "application/json;odata=minimalmetadata");
            if (returnNoContent)
            {
                request.Headers.TryAddWithoutValidation("Prefer", "return-no-content");
            }

            if (ifMatch != null)
            {
                request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
            }

            var authorization = _credential.Sign(Address.AccountName, uri, date);
            if (authorization != null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (body != null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.Headers.Date is DateTimeOffset serverDate)
            {
                ServerClockOffset = serverDate - DateTimeOffset.UtcNow;
            }

            var content = await ApiTransport.ReadCappedAsync(response.Content, MaxAnswerBytes, truncate: status >= 300, deadline.Token).ConfigureAwait(false);
            return new TableAnswer(
                status,
                response.Headers.ETag?.ToString() ?? Header(response, "ETag"),
                content,
                Header(response, "x-ms-continuation-NextPartitionKey"),
                Header(response, "x-ms-continuation-NextRowKey"));
        }

        private void EnsureSuccess(TableAnswer answer, string action)
        {
            if (answer.Status >= 200 && answer.Status <= 299)
            {
                return;
            }

            var serverMessage = _credential.Redact(answer.Message);
            var detail = answer.Code != null ? $"{answer.Status} {answer.Code}" : answer.Status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (answer.Status == 401 || answer.Status == 403)
            {
                throw new SegmindJournalAccessException(
                    $"The journal table {Address} refused the credential ({detail}) when trying to {action}: it must be valid, unexpired and allow read, add and update on the table.",
                    answer.Status,
                    serverMessage);
            }

            if (answer.Code == "TableNotFound")
            {
                throw new SegmindJournalException($"The journal table {Address} does not exist.", answer.Status, serverMessage) { StorageErrorCode = answer.Code };
            }

            throw new SegmindJournalException(
                $"Could not {action} at {Address} ({detail}){(string.IsNullOrEmpty(serverMessage) ? "." : ": " + serverMessage)}",
                answer.Status,
                serverMessage) { StorageErrorCode = answer.Code };
        }

        private JsonDocument Parse(TableAnswer answer, string action)
        {
            try
            {
                return JsonDocument.Parse(answer.Body);
            }
            catch (JsonException)
            {
                throw new SegmindJournalException($"Could not {action} at {Address}: the answer is not JSON.", answer.Status);
            }
        }

        private static bool IsTransient(int status) => status == 408 || status == 429 || status >= 500;

        private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(250 * (1 << attempt));

        private static string? Header(HttpResponseMessage response, string name)
        {
            if (response.Headers.TryGetValues(name, out var values))
            {
                foreach (var value in values)
                {
                    return value;
                }
            }

            return null;
        }

        /// <summary>An answer read whole: status, ETag, body, and the service's error code and message when it failed.</summary>
        private sealed class TableAnswer
        {
            public TableAnswer(int status, string? etag, byte[] body, string? nextPartitionKey, string? nextRowKey)
            {
                Status = status;
                ETag = etag;
                Body = body;
                NextPartitionKey = nextPartitionKey;
                NextRowKey = nextRowKey;
                if (status >= 300)
                {
                    ReadError(body, out var code, out var message);
                    Code = code;
                    Message = message;
                }
            }

            public int Status { get; }
            public string? ETag { get; }
            public byte[] Body { get; }
            public string? NextPartitionKey { get; }
            public string? NextRowKey { get; }
            public string? Code { get; }
            public string? Message { get; }

            private static void ReadError(byte[] body, out string? code, out string? message)
            {
                code = null;
                message = null;
                try
                {
                    using var document = JsonDocument.Parse(body);
                    if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("odata.error", out var error))
                    {
                        code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                        if (error.TryGetProperty("message", out var m))
                        {
                            message = m.ValueKind == JsonValueKind.String ? m.GetString()
                                : m.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                        }
                    }
                }
                catch (JsonException)
                {
                    // Not JSON (an XML or HTML error page): the status alone must do.
                }

                // The service ends messages with request ids and times on new lines; the first line says what went wrong.
                if (message != null)
                {
                    var newline = message.IndexOf('\n');
                    message = (newline > 0 ? message.Substring(0, newline) : message).Trim();
                }
            }
        }
    }
}
