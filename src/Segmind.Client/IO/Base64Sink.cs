using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.IO
{
    /// <summary>
    /// Decodes the raw content of a JSON string holding base64 (escapes included, fed in pieces of any size) to a
    /// stream, a slice at a time: any size can be saved in constant memory. JSON escapes are undone (<c>\/</c>,
    /// <c>\uXXXX</c>), whitespace and escaped line breaks are skipped, and a <c>data:...;base64,</c> prefix is dropped.
    /// </summary>
    internal sealed class Base64Sink
    {
        private const int SliceChars = 64 * 1024;

        private readonly Stream _destination;
        private readonly DownloadBudget? _budget;
        private readonly char[] _slice = new char[SliceChars];
        private readonly char[] _escape = new char[6];
        private int _filled;
        private int _escapeLength;
        private bool _ended;
        private bool _startChecked;
        private System.Text.StringBuilder? _prefix = new System.Text.StringBuilder();

        public Base64Sink(Stream destination, DownloadBudget? budget)
        {
            _destination = destination;
            _budget = budget;
        }

        public long Written { get; private set; }

        public async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            for (var i = offset; i < offset + count; i++)
            {
                var c = (char)buffer[i];
                if (_escapeLength > 0 || c == '\\')
                {
                    _escape[_escapeLength++] = c;
                    if (!TryEndEscape(out c))
                    {
                        continue;
                    }
                }

                if (c == '\0' || char.IsWhiteSpace(c))
                {
                    continue;
                }

                if (!_startChecked)
                {
                    // The first characters are held until they show whether a data URL prefix is to be dropped.
                    _prefix!.Append(c);
                    var text = _prefix.ToString();
                    var couldBeDataUrl = text.Length <= 5
                        ? "data:".StartsWith(text, StringComparison.OrdinalIgnoreCase)
                        : text.StartsWith("data:", StringComparison.OrdinalIgnoreCase);
                    if (couldBeDataUrl && c == ',')
                    {
                        _startChecked = true;
                        _prefix = null;
                        continue;
                    }

                    if (couldBeDataUrl && text.Length < 256)
                    {
                        continue;
                    }

                    _startChecked = true;
                    _prefix = null;
                    foreach (var held in text)
                    {
                        if (Add(held))
                        {
                            await FlushAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }

                    continue;
                }

                if (Add(c))
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        /// <summary>Writes what is left; throws FormatException when the text was not whole base64.</summary>
        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            if (_prefix != null && _prefix.Length > 0)
            {
                var held = _prefix.ToString();
                _prefix = null;
                if (held.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
                {
                    throw new FormatException("A data URL without a comma.");
                }

                foreach (var h in held)
                {
                    if (Add(h))
                    {
                        await FlushAsync(cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            if (_escapeLength > 0)
            {
                throw new FormatException("The text ends inside an escape.");
            }

            if (_filled % 4 != 0)
            {
                throw new FormatException("Base64 text of a length that is not a multiple of 4.");
            }

            if (_filled > 0)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Adds one base64 character; true when the slice is full and must be flushed.</summary>
        private bool Add(char c)
        {
            if (_ended && c != '=')
            {
                throw new FormatException("Base64 text continues after its padding.");
            }

            if (c == '=')
            {
                _ended = true;
            }

            _slice[_filled++] = c;
            return _filled == SliceChars;
        }

        private async Task FlushAsync(CancellationToken cancellationToken)
        {
            var bytes = Convert.FromBase64CharArray(_slice, 0, _filled);
            _filled = 0;
            if (Written == 0 && !VideoSignature.Matches(bytes, 0, bytes.Length))
            {
                throw new FormatException("The decoded output does not start like a video file.");
            }

            Written += bytes.Length;
            _budget?.Check(Written);
            await _destination.WriteAsync(bytes, 0, bytes.Length, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>True with the character an escape stands for once it is complete (NUL for an escaped line break, which is skipped).</summary>
        private bool TryEndEscape(out char value)
        {
            value = '\0';
            if (_escapeLength < 2)
            {
                return false;
            }

            var kind = _escape[1];
            if (kind == 'u')
            {
                if (_escapeLength < 6)
                {
                    return false;
                }

                var code = 0;
                for (var i = 2; i < 6; i++)
                {
                    var digit = Convert.ToInt32(_escape[i].ToString(), 16);
                    code = (code * 16) + digit;
                }

                _escapeLength = 0;
                value = (char)code;
                return true;
            }

            _escapeLength = 0;
            switch (kind)
            {
                case '/':
                case '\\':
                case '"':
                    value = kind;
                    return true;
                case 'n':
                case 'r':
                case 't':
                case 'b':
                case 'f':
                    return true;
                default:
                    throw new FormatException("An unknown escape in the base64 text.");
            }
        }
    }
}
