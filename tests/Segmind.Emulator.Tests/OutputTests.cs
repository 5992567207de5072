using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using Xunit;
using static Segmind.Emulator.Tests.EmulatorTestHelpers;

namespace Segmind.Emulator.Tests;

public class OutputTests
{
    [Fact]
    public async Task Base64_job_returns_the_mp4_as_base64_text()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);
        var body = ValidParameters();
        body["base64"] = true;

        var id = RequestId(await SubmitOkAsync(client, body));
        server.CompleteJob(id);
        using var result = await client.GetAsync($"v2/requests/{id}");
        var output = (await ReadJsonAsync(result)).GetProperty("output").GetString()!;

        Assert.False(output.StartsWith("http", StringComparison.OrdinalIgnoreCase));
        var video = Convert.FromBase64String(output);
        Assert.True(IsMp4(video));
        Assert.Equal(OutputVideo.Asset.ToArray(), video);
    }

    [Fact]
    public void Embedded_video_is_a_small_mp4()
    {
        var asset = OutputVideo.Asset.Span;
        Assert.True(IsMp4(asset));
        Assert.InRange(asset.Length, 1000, 64 * 1024);
    }

    [Fact]
    public async Task Padded_output_is_the_asset_then_a_free_box_of_the_padding()
    {
        const int padding = 100_000;
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.OutputPaddingBytes = padding));
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);

        using var response = await client.GetAsync($"outputs/{id}.mp4");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("video/mp4", ContentType(response)?.MediaType);
        var asset = OutputVideo.Asset.ToArray();
        Assert.Equal(asset.Length + padding, response.Content.Headers.ContentLength);

        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(asset.Length + padding, bytes.Length);
        Assert.Equal(asset, bytes[..asset.Length]);
        Assert.Equal((uint)padding, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(asset.Length)));
        Assert.Equal("free"u8.ToArray(), bytes[(asset.Length + 4)..(asset.Length + 8)]);
        Assert.All(bytes[(asset.Length + 8)..], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Hundred_megabyte_output_streams_with_a_correct_length()
    {
        const long padding = 100L * 1024 * 1024;
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.OutputPaddingBytes = padding));
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);

        using var response = await client.GetAsync($"outputs/{id}.mp4", HttpCompletionOption.ResponseHeadersRead);
        var expected = OutputVideo.Asset.Length + padding;
        Assert.Equal(expected, response.Content.Headers.ContentLength);

        await using var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[256 * 1024];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        Assert.Equal(expected, total);
    }

    [Fact]
    public async Task Padding_beyond_four_gigabytes_uses_the_64_bit_box_header()
    {
        const long padding = 5L * 1024 * 1024 * 1024;
        var header = OutputVideo.FreeBoxHeader(padding);
        Assert.Equal(16, header.Length);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(header));
        Assert.Equal("free"u8.ToArray(), header[4..8]);
        Assert.Equal((ulong)padding, BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8)));

        // Only the headers: nothing of that size is sent.
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.OutputPaddingBytes = padding));
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);
        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"outputs/{id}.mp4"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(OutputVideo.Asset.Length + padding, head.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Range_requests_return_the_asked_bytes()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions(o => o.OutputPaddingBytes = 4096));
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));
        server.CompleteJob(id);
        var asset = OutputVideo.Asset.ToArray();
        var length = asset.Length + 4096;

        // A range that spans the end of the asset and the box header.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"outputs/{id}.mp4");
        request.Headers.Range = new RangeHeaderValue(asset.Length - 4, asset.Length + 7);
        using var partial = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal($"bytes {asset.Length - 4}-{asset.Length + 7}/{length}", partial.Content.Headers.ContentRange?.ToString());
        var bytes = await partial.Content.ReadAsByteArrayAsync();
        Assert.Equal(12, bytes.Length);
        Assert.Equal(asset[^4..], bytes[..4]);
        Assert.Equal(4096u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4)));

        // The rest of the file, as a resumed download asks for it.
        using var resume = new HttpRequestMessage(HttpMethod.Get, $"outputs/{id}.mp4");
        resume.Headers.Range = new RangeHeaderValue(100, null);
        using var tail = await client.SendAsync(resume);
        Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
        Assert.Equal(length - 100, (await tail.Content.ReadAsByteArrayAsync()).Length);

        using var beyond = new HttpRequestMessage(HttpMethod.Get, $"outputs/{id}.mp4");
        beyond.Headers.Range = new RangeHeaderValue(length, null);
        using var unsatisfiable = await client.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
    }

    [Fact]
    public async Task Output_of_an_unfinished_or_unknown_job_is_404()
    {
        await using var server = await EmulatorServer.StartAsync(FrozenOptions());
        using var client = Client(server);
        var id = RequestId(await SubmitOkAsync(client));

        using var running = await client.GetAsync($"outputs/{id}.mp4");
        Assert.Equal(HttpStatusCode.NotFound, running.StatusCode);
        using var unknown = await client.GetAsync($"outputs/{Guid.NewGuid()}.mp4");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
