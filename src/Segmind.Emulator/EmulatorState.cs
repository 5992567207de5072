namespace Segmind.Emulator;

/// <summary>Everything one emulator instance owns, shared by its middleware and endpoints.</summary>
internal sealed class EmulatorState : IAsyncDisposable
{
    public EmulatorState(EmulatorOptions options)
    {
        Options = options;
        Clock = new ScaledClock(() => options.TimeScale);
        Counters = new EmulatorCounters();
        Scheduler = new JobScheduler(options, Clock, Counters);
        Credits = new CreditLedger(options);
        RateLimiter = new RateLimiter();
        Faults = new FaultInjector(options.FaultSeed);
        Uploads = new UploadStore();
    }

    public EmulatorOptions Options { get; }
    public ScaledClock Clock { get; }
    public EmulatorCounters Counters { get; }
    public JobScheduler Scheduler { get; }
    public CreditLedger Credits { get; }
    public RateLimiter RateLimiter { get; }
    public FaultInjector Faults { get; }
    public UploadStore Uploads { get; }

    public void Reset()
    {
        Scheduler.Clear();
        Counters.Reset();
        Credits.Clear();
        RateLimiter.Clear();
        Uploads.Clear();
        Faults.Reseed(Options.FaultSeed);
    }

    public ValueTask DisposeAsync() => Scheduler.DisposeAsync();
}
