using Segmind.Emulator;

namespace Segmind.WanAnimate.Tests.Support;

/// <summary>
/// One in-process emulator per test class (xunit runs classes in parallel, so counters stay per class). Time runs
/// a hundred times faster: a 50-second emulated job takes half a second.
/// </summary>
public class EmulatorFixture : IAsyncLifetime
{
    public const string ApiKey = EmulatorOptions.DefaultApiKey;
    public const double TimeScale = 0.01;

    private EmulatorServer? _server;

    public EmulatorServer Server => _server ?? throw new InvalidOperationException("The emulator has not started.");

    public async Task InitializeAsync()
    {
        var options = new EmulatorOptions
        {
            TimeScale = TimeScale,
            QueueSeconds = 0,
            ProcessingSeconds = 50,
            Workers = 8,
            FaultSeed = 1234,
        };
        Configure(options);
        _server = await EmulatorServer.StartAsync(options);
    }

    public async Task DisposeAsync()
    {
        if (_server != null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Back to a clean emulator with the fixture's options, between tests of one class.</summary>
    public void Reset(Action<EmulatorOptions>? change = null)
    {
        Server.Reset();
        var options = Server.Options;
        options.Faults.Clear();
        options.ProcessingSeconds = 50;
        options.QueueSeconds = 0;
        options.Workers = 8;
        options.FailureProbability = 0;
        options.RequestsPerMinute = 0;
        Configure(options);
        change?.Invoke(options);
    }

    protected virtual void Configure(EmulatorOptions options)
    {
    }

    /// <summary>A session bound to this emulator through $PSDefaultParameterValues (per runspace, so parallel classes do not collide).</summary>
    public PowerShellSession OpenSession(string? apiKey = ApiKey) => new(Server.BaseUri, apiKey);
}
