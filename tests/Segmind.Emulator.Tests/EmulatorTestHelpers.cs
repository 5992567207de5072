using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Segmind.Emulator.Tests;

/// <summary>Starting servers, building requests and reading answers, over real loopback HTTP.</summary>
internal static class EmulatorTestHelpers
{
    public const string Key = EmulatorOptions.DefaultApiKey;

    // Generous: a loaded 2-core machine may be slow, and nothing here asserts on elapsed time.
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Options for fast tests: a 400-second job takes 0.4 real seconds.</summary>
    public static EmulatorOptions FastOptions(Action<EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions { TimeScale = 0.001, QueueSeconds = 0, FaultSeed = 1234 };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Options where jobs never finish on their own during a test (finish them with CompleteJob).</summary>
    public static EmulatorOptions FrozenOptions(Action<EmulatorOptions>? configure = null)
    {
        var options = new EmulatorOptions { ProcessingSeconds = 1e9, QueueSeconds = 0, FaultSeed = 1234 };
        configure?.Invoke(options);
        return options;
    }

    public static HttpClient Client(EmulatorServer server, string? apiKey = Key, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = server.BaseUri, Timeout = timeout ?? Patience };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("x-api-key", apiKey);
        }

        return client;
    }

    public static Dictionary<string, object?> ValidParameters(string prompt = "a dancer on a rooftop") => new()
    {
        ["input_video"] = "https://example.com/motion.mp4",
        ["reference_image"] = "https://example.com/character.png",
        ["prompt"] = prompt,
    };

    public static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    public static StringContent RawJson(string body) => new(body, Encoding.UTF8, "application/json");

    public static Task<HttpResponseMessage> SubmitAsync(HttpClient client, object? body = null) =>
        client.PostAsync("v2/wan-animate", Json(body ?? ValidParameters()));

    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }

    /// <summary>Submits and returns the parsed 200 answer.</summary>
    public static async Task<JsonElement> SubmitOkAsync(HttpClient client, object? body = null)
    {
        using var response = await SubmitAsync(client, body);
        var json = await ReadJsonAsync(response);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, "submit answered " + (int)response.StatusCode + ": " + json);
        return json;
    }

    public static string RequestId(JsonElement submitAnswer) => submitAnswer.GetProperty("request_id").GetString()!;

    /// <summary>Polls the status URL until <paramref name="until"/> holds; returns every distinct state seen, in order.</summary>
    public static async Task<List<string>> PollUntilAsync(HttpClient client, string statusUrl, Func<string, bool> until)
    {
        var seen = new List<string>();
        using var deadline = new CancellationTokenSource(Patience);
        while (true)
        {
            using var response = await client.GetAsync(statusUrl, deadline.Token);
            var state = (await ReadJsonAsync(response)).GetProperty("status").GetString()!;
            if (seen.Count == 0 || seen[^1] != state)
            {
                seen.Add(state);
            }

            if (until(state))
            {
                return seen;
            }

            await Task.Delay(10, deadline.Token);
        }
    }

    /// <summary>Waits until a condition on the server holds (bounded; fails the test if it never does).</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(Patience);
        while (!await condition())
        {
            if (deadline.IsCancellationRequested)
            {
                Assert.Fail("Timed out waiting for: " + what);
            }

            await Task.Delay(10);
        }
    }

    public static string ErrorOf(JsonElement body) => body.GetProperty("error").GetString() ?? string.Empty;

    public static bool IsMp4(ReadOnlySpan<byte> bytes) => bytes.Length > 8 && bytes.Slice(4, 4).SequenceEqual("ftyp"u8);

    public static MediaTypeHeaderValue? ContentType(HttpResponseMessage response) => response.Content.Headers.ContentType;
}
