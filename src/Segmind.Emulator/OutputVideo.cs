using System.Buffers.Binary;
using System.Collections.Concurrent;

namespace Segmind.Emulator;

/// <summary>
/// The video every job returns: a real, tiny, playable MP4 (embedded), optionally followed by an MP4 <c>free</c> box
/// of padding so clients can be tested against large downloads. Players skip <c>free</c> boxes, so the padded file
/// still plays. The padding is written from one shared buffer of zeros; nothing the size of the file is allocated.
/// </summary>
public static class OutputVideo
{
    public const string ContentType = "video/mp4";
    private const string ResourceName = "Segmind.Emulator.Assets.output.mp4";
    private static readonly byte[] Zeros = new byte[64 * 1024];
    private static readonly Lazy<byte[]> LazyAsset = new(LoadAsset);

    /// <summary>The unpadded MP4.</summary>
    public static ReadOnlyMemory<byte> Asset => LazyAsset.Value;

    /// <summary>The asset as base64, as the API returns it when a job asked for base64.</summary>
    public static string AssetBase64 => CachedBase64.Value;

    private static readonly Lazy<string> CachedBase64 = new(() => Convert.ToBase64String(LazyAsset.Value));

    /// <summary>The padding actually used for a requested amount: 0, or at least the 8 bytes a box header needs.</summary>
    public static long EffectivePadding(long requested) => requested <= 0 ? 0 : Math.Max(8, requested);

    /// <summary>The served length for a requested padding.</summary>
    public static long Length(long requestedPadding) => LazyAsset.Value.Length + EffectivePadding(requestedPadding);

    /// <summary>The header of a <c>free</c> box whose total size is <paramref name="padding"/> (64-bit form when it must).</summary>
    public static byte[] FreeBoxHeader(long padding)
    {
        padding = EffectivePadding(padding);
        if (padding == 0)
        {
            return Array.Empty<byte>();
        }

        if (padding <= uint.MaxValue)
        {
            var header = new byte[8];
            BinaryPrimitives.WriteUInt32BigEndian(header, (uint)padding);
            "free"u8.CopyTo(header.AsSpan(4));
            return header;
        }

        // size == 1 means "the real size is the 64-bit value after the type".
        var large = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(large, 1);
        "free"u8.CopyTo(large.AsSpan(4));
        BinaryPrimitives.WriteUInt64BigEndian(large.AsSpan(8), (ulong)padding);
        return large;
    }

    /// <summary>Writes bytes [offset, offset + count) of the padded file to <paramref name="destination"/>.</summary>
    public static async Task WriteAsync(Stream destination, long requestedPadding, long offset, long count, CancellationToken cancellationToken)
    {
        var asset = LazyAsset.Value;
        var header = FreeBoxHeader(requestedPadding);
        var total = Length(requestedPadding);
        if (offset < 0 || count < 0 || offset + count > total)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }

        var end = offset + count;
        var position = offset;

        // The three parts of the file: the asset, the box header, then zeros.
        if (position < asset.Length && position < end)
        {
            var take = (int)Math.Min(asset.Length - position, end - position);
            await destination.WriteAsync(asset.AsMemory((int)position, take), cancellationToken).ConfigureAwait(false);
            position += take;
        }

        var headerStart = (long)asset.Length;
        if (position < headerStart + header.Length && position < end)
        {
            var from = (int)(position - headerStart);
            var take = (int)Math.Min(header.Length - from, end - position);
            await destination.WriteAsync(header.AsMemory(from, take), cancellationToken).ConfigureAwait(false);
            position += take;
        }

        while (position < end)
        {
            var take = (int)Math.Min(Zeros.Length, end - position);
            await destination.WriteAsync(Zeros.AsMemory(0, take), cancellationToken).ConfigureAwait(false);
            position += take;
        }
    }

    private static byte[] LoadAsset()
    {
        using var stream = typeof(OutputVideo).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException("The embedded output video is missing: " + ResourceName);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}

/// <summary>Files received through upload-asset, served back at <c>/assets/{id}</c>.</summary>
internal sealed class UploadStore
{
    private static readonly Dictionary<string, string> Extensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ["image/png"] = ".png",
        ["image/jpeg"] = ".jpg",
        ["image/jpg"] = ".jpg",
        ["image/gif"] = ".gif",
        ["image/webp"] = ".webp",
        ["image/bmp"] = ".bmp",
        ["video/mp4"] = ".mp4",
        ["video/quicktime"] = ".mov",
        ["video/webm"] = ".webm",
        ["video/x-matroska"] = ".mkv",
        ["audio/mpeg"] = ".mp3",
    };

    private readonly ConcurrentDictionary<string, (byte[] Data, string ContentType)> _files = new(StringComparer.Ordinal);

    public string Add(byte[] data, string contentType)
    {
        var id = Guid.NewGuid().ToString("N") + (Extensions.TryGetValue(contentType, out var extension) ? extension : string.Empty);
        _files[id] = (data, contentType);
        return id;
    }

    public bool TryGet(string id, out byte[] data, out string contentType)
    {
        if (_files.TryGetValue(id, out var file))
        {
            data = file.Data;
            contentType = file.ContentType;
            return true;
        }

        data = Array.Empty<byte>();
        contentType = string.Empty;
        return false;
    }

    public int Count => _files.Count;

    public void Clear() => _files.Clear();
}
