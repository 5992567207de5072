using System;
using System.Security.Cryptography;
using System.Text;

namespace Segmind.Client.TableStorage
{
    /// <summary>
    /// Table keys for journal rows. A row id may hold characters a key may not (/ \ # ? and control characters) or be
    /// long; keys keep letters, digits, '-', '_' and '.' and write every other UTF-8 byte as <c>~XX</c>, so distinct
    /// ids stay distinct and a key is still readable in a table browser. Over 400 characters, a hash stands in.
    /// </summary>
    internal static class TableJournalKeys
    {
        public const string RowPartition = "row";
        public const string JobPartition = "job";
        public const string HolderPartition = "holder";

        private const int MaxKeyLength = 400;

        public static string For(string id)
        {
            var builder = new StringBuilder(id.Length + 8);
            foreach (var b in Encoding.UTF8.GetBytes(id))
            {
                var c = (char)b;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')
                {
                    builder.Append(c);
                }
                else
                {
                    builder.Append('~').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            if (builder.Length <= MaxKeyLength)
            {
                return builder.ToString();
            }

            using var sha = SHA256.Create();
            var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(id));
            return "~hash~" + BitConverter.ToString(hash).Replace("-", string.Empty).ToLowerInvariant();
        }
    }
}
