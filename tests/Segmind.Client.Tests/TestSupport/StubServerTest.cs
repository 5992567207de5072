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
        TestKeys.AssertNoLeak();
    }

    /// <summary>A client of the stub with the test options, then <see cref="Configure"/>, then <paramref name="adjust"/>.</summary>
    protected SegmindClient Client(Action<SegmindClientOptions>? adjust = null)
    {
        var options = TestClientOptions.For(Stub.BaseUri, Gate);
        Configure(options);
        adjust?.Invoke(options);
        return new SegmindClient(options);
    }

    /// <summary>What every client of this test class changes in the test options.</summary>
    protected virtual void Configure(SegmindClientOptions options)
    {
    }
}
