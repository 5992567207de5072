using System;
using System.Text.RegularExpressions;
using Segmind.Client.Http;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// Where a journal table lives: <c>https://&lt;account&gt;.table.core.windows.net/&lt;table&gt;</c>, or the path-style
    /// <c>http://127.0.0.1:&lt;port&gt;/&lt;account&gt;/&lt;table&gt;</c> of a local emulator (plain http only on loopback).
    /// </summary>
    public sealed class TableAddress
    {
        // Azure's rule for table names: a letter, then letters and digits, 3 to 63 characters in all.
        private static readonly Regex TableNameRule = new Regex("^[A-Za-z][A-Za-z0-9]{2,62}$", RegexOptions.CultureInvariant);
        private static readonly Regex AccountNameRule = new Regex("^[a-z0-9]{3,24}$", RegexOptions.CultureInvariant);

        private TableAddress(Uri serviceUri, string accountName, string tableName)
        {
            ServiceUri = serviceUri;
            AccountName = accountName;
            TableName = tableName;
        }

        /// <summary>The table service's base address, ending in a slash (for path-style, it includes the account).</summary>
        public Uri ServiceUri { get; }

        public string AccountName { get; }

        public string TableName { get; }

        /// <summary>True when <paramref name="text"/> is meant as a web address (http or https), not a local path.</summary>
        public static bool IsTableAddress(string? text) =>
            text != null
            && (text.TrimStart().StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                || text.TrimStart().StartsWith("http://", StringComparison.OrdinalIgnoreCase));

        /// <summary>Parses a table address; <paramref name="field"/> is named in the error when it is not one.</summary>
        public static TableAddress Parse(string text, string field)
        {
            if (!UriRules.TryParseHttp((text ?? string.Empty).Trim(), out var uri))
            {
                throw new SegmindValidationException(field, "The journal address is not an absolute http or https address.");
            }

            if (!string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.UserInfo))
            {
                // A SAS pasted into the address would be echoed wherever the address is: it belongs in the credential.
                throw new SegmindValidationException(
                    field,
                    $"The journal address '{UriRules.Describe(uri)}' has a query string or user information; give the SAS token or connection string as the journal credential instead (it is never shown).");
            }

            var loopback = UriRules.IsLoopback(uri);
            if (uri.Scheme == Uri.UriSchemeHttp && !loopback)
            {
                throw new SegmindValidationException(field, $"Refusing a journal over plain http to '{uri.Host}': use https (plain http is allowed only for a local emulator on a loopback address).");
            }

            var segments = uri.AbsolutePath.Trim('/').Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries);
            string account;
            string table;
            string servicePath;
            if (loopback && segments.Length == 2)
            {
                // Path-style, as the emulator serves it: /<account>/<table>.
                account = segments[0];
                table = segments[1];
                servicePath = "/" + account + "/";
            }
            else if (!loopback && segments.Length == 1)
            {
                account = uri.Host.Split('.')[0].ToLowerInvariant();
                table = segments[0];
                servicePath = "/";
            }
            else
            {
                throw new SegmindValidationException(
                    field,
                    $"The journal address '{UriRules.Describe(uri)}' does not name one table: expected https://<account>.table.core.windows.net/<table>"
                    + (loopback ? " or, for a local emulator, http://127.0.0.1:<port>/<account>/<table>." : "."));
            }

            if (!TableNameRule.IsMatch(table))
            {
                throw new SegmindValidationException(field, $"'{table}' is not a valid table name: 3 to 63 letters and digits, starting with a letter.");
            }

            if (!AccountNameRule.IsMatch(account))
            {
                throw new SegmindValidationException(field, $"'{account}' is not a valid storage account name: 3 to 24 lower-case letters and digits.");
            }

            var service = new UriBuilder(uri.Scheme, uri.Host, uri.Port, servicePath).Uri;
            return new TableAddress(service, account, table);
        }

        /// <summary>The address as the user gave it, normalised (never with a credential).</summary>
        public override string ToString() => new Uri(ServiceUri, TableName).AbsoluteUri;
    }
}
