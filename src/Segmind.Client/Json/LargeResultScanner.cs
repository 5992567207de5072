using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Segmind.Client.Json
{
    /// <summary>
    /// Reads a result answer too large to hold in memory, a buffer at a time: everything but the top-level
    /// <c>output</c> string (or the first string of an <c>output</c> array) is kept as a small JSON skeleton, in which
    /// that string is left empty; the string's raw content goes to <see cref="Divert"/> (or is only counted). So a
    /// base64 video of any size can be streamed to disk while the status, id and metrics are parsed as usual.
    /// </summary>
    internal sealed class LargeResultScanner
    {
        private const int MaxKeyBytes = 64;

        private readonly long _maxSkeletonBytes;
        private readonly MemoryStream _skeleton = new MemoryStream();
        private readonly byte[] _key = new byte[MaxKeyBytes];
        private int _keyLength;
        private string? _currentKey;
        private int _depth;
        private bool _rootIsObject;
        private bool _inString;
        private bool _escaped;
        private bool _stringIsKey;
        private bool _expectKey;
        private bool _diverting;
        private bool _outputArray;
        private bool _outputTaken;

        public LargeResultScanner(long maxSkeletonBytes)
        {
            _maxSkeletonBytes = maxSkeletonBytes;
        }

        /// <summary>Receives the output string's raw content (JSON escapes included); null only counts it.</summary>
        public Func<byte[], int, int, CancellationToken, Task>? Divert { get; set; }

        /// <summary>Bytes of output content seen.</summary>
        public long Diverted { get; private set; }

        /// <summary>Called with <see cref="Diverted"/> after every buffer, to enforce a cap.</summary>
        public Action<long>? OnDiverted { get; set; }

        /// <summary>Called with the bytes read so far after every read from the network, to enforce a deadline or a throughput.</summary>
        public Action<long>? OnRead { get; set; }

        public byte[] Skeleton => _skeleton.ToArray();

        public async Task ScanAsync(Stream source, CancellationToken cancellationToken)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(81920);
            long total = 0;
            try
            {
                while (true)
                {
                    var read = await source.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        return;
                    }

                    total += read;
                    OnRead?.Invoke(total);

                    await ScanAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public async Task ScanAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var end = offset + count;
            var divertStart = _diverting ? offset : -1;
            for (var i = offset; i < end; i++)
            {
                var b = buffer[i];
                if (_diverting)
                {
                    if (_escaped)
                    {
                        _escaped = false;
                    }
                    else if (b == (byte)'\\')
                    {
                        _escaped = true;
                    }
                    else if (b == (byte)'"')
                    {
                        await DivertAsync(buffer, divertStart, i - divertStart, cancellationToken).ConfigureAwait(false);
                        divertStart = -1;
                        _diverting = false;
                        _inString = false;
                        Keep(b);
                    }

                    continue;
                }

                Keep(b);
                if (_inString)
                {
                    if (_escaped)
                    {
                        _escaped = false;
                        AddKeyByte(b);
                    }
                    else if (b == (byte)'\\')
                    {
                        _escaped = true;
                        AddKeyByte(b);
                    }
                    else if (b == (byte)'"')
                    {
                        _inString = false;
                        if (_stringIsKey)
                        {
                            _currentKey = Encoding.UTF8.GetString(_key, 0, _keyLength);
                        }
                    }
                    else
                    {
                        AddKeyByte(b);
                    }

                    continue;
                }

                switch (b)
                {
                    case (byte)'"':
                        _inString = true;
                        _stringIsKey = _depth == 1 && _rootIsObject && _expectKey;
                        _keyLength = 0;
                        if (!_stringIsKey && !_outputTaken && IsOutputValue())
                        {
                            _outputTaken = true;
                            _diverting = true;
                            divertStart = i + 1;
                        }

                        break;
                    case (byte)'{':
                    case (byte)'[':
                        if (_depth == 0)
                        {
                            _rootIsObject = b == (byte)'{';
                            _expectKey = _rootIsObject;
                        }
                        else if (_depth == 1 && b == (byte)'[' && _rootIsObject && !_expectKey && _currentKey == "output")
                        {
                            _outputArray = true;
                        }

                        _depth++;
                        break;
                    case (byte)'}':
                    case (byte)']':
                        _depth--;
                        if (_depth == 1)
                        {
                            _outputArray = false;
                        }

                        break;
                    case (byte)':':
                        if (_depth == 1)
                        {
                            _expectKey = false;
                        }

                        break;
                    case (byte)',':
                        if (_depth == 1)
                        {
                            _expectKey = _rootIsObject;
                        }

                        break;
                }
            }

            if (_diverting && divertStart >= 0 && divertStart < end)
            {
                await DivertAsync(buffer, divertStart, end - divertStart, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>True at the value of the top-level "output" key, or at an element of its array.</summary>
        private bool IsOutputValue() =>
            _rootIsObject && _currentKey == "output" && ((_depth == 1 && !_expectKey) || (_depth == 2 && _outputArray));

        private void AddKeyByte(byte b)
        {
            if (_stringIsKey && _keyLength < MaxKeyBytes)
            {
                _key[_keyLength++] = b;
            }
        }

        private void Keep(byte b)
        {
            if (_skeleton.Length >= _maxSkeletonBytes)
            {
                throw Http.ApiTransport.TooLarge(_skeleton.Length + 1, _maxSkeletonBytes);
            }

            _skeleton.WriteByte(b);
        }

        private async Task DivertAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (count <= 0)
            {
                return;
            }

            Diverted += count;
            OnDiverted?.Invoke(Diverted);
            if (Divert != null)
            {
                await Divert(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
