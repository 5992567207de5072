using System.Text;
using Xunit;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// A test class against one raw loopback <see cref="StubServer"/>: the stub (started with a fixed answer that tests
/// replace), a gate that records every request, clients bound to both, and the check that no key leaked.
/// </summary>
public abstract class StubServerTest : IAsyncLifetime
{
    private readonly int _status;
    private readonly string _body;
    private readonly List<StubServer> _others = new();

    protected StubServerTest(int status = 500, string body = "{}")
    {
        _status = status;
        _body = body;
    }

    protected RecordingGate Gate { get; } = new();

    protected StubServer Stub { get; private set; } = null!;

    public Task InitializeAsync()
    {
        TestKeys.Watch();
        Stub = StubServer.Answering(_status, _body);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Stub.DisposeAsync();
        foreach (var other in _others)
        {
            await other.DisposeAsync();
        }

        TestKeys.AssertNoLeak();
    }

    /// <summary>A second server (another host, a redirect target), stopped with the stub.</summary>
    protected StubServer AnotherServer(StubServer server)
    {
        _others.Add(server);
        return server;
    }

    /// <summary>A client of the stub with the test options, then <see cref="Configure"/>, then <paramref name="adjust"/>.</summary>
    protected SegmindClient Client(Action<SegmindClientOptions>? adjust = null)
    {
        var options = TestClientOptions.For(Stub.BaseUri, Gate);
        Configure(options);
        adjust?.Invoke(options);
        return new SegmindClient(options);
    }

    /// <summary>Every request gets the same answer.</summary>
    protected void Answer(int status, string body, string contentType = "application/json", params (string, string)[] headers) =>
        Stub.Handler = (request, stream, ct) => StubServer.WriteAsync(stream, status, contentType, Encoding.UTF8.GetBytes(body), headers, ct);

    /// <summary>What every client of this test class changes in the test options.</summary>
    protected virtual void Configure(SegmindClientOptions options)
    {
    }
}
