namespace Segmind.Emulator;

/// <summary>The seeded random source behind every fault and every random job failure.</summary>
internal sealed class FaultInjector
{
    private static readonly int[] ServerErrorCodes = { 500, 502, 503, 504 };

    private readonly object _lock = new();
    private Random _random;

    public FaultInjector(int? seed) => _random = Create(seed);

    public void Reseed(int? seed)
    {
        lock (_lock) _random = Create(seed);
    }

    public bool Chance(double probability)
    {
        if (!(probability > 0)) return false;
        lock (_lock) return _random.NextDouble() < probability;
    }

    public FaultDecision Decide(EndpointGroup group, FaultOptions faults)
    {
        var all = faults.All;
        var own = faults.For(group);

        // For each kind, the group's own settings win when it enables that kind.
        var slow = own.SlowResponseProbability > 0 ? own : all;
        var limited = own.RateLimitFaultProbability > 0 ? own : all;
        var serverError = own.ServerErrorProbability > 0 ? own : all;
        var drop = own.DropConnectionProbability > 0 ? own : all;

        var delay = Chance(slow.SlowResponseProbability)
            ? TimeSpan.FromSeconds(Math.Max(0, slow.SlowResponseSeconds))
            : TimeSpan.Zero;

        var pLimited = Clamp(limited.RateLimitFaultProbability);
        var pServer = Clamp(serverError.ServerErrorProbability);
        var pDrop = Clamp(drop.DropConnectionProbability);
        if (pLimited + pServer + pDrop <= 0)
        {
            return new FaultDecision(delay, FaultAction.None, 0, 0);
        }

        lock (_lock)
        {
            var roll = _random.NextDouble();
            if (roll < pLimited)
            {
                return new FaultDecision(delay, FaultAction.RateLimit, 429, Math.Max(1, limited.RateLimitRetryAfterSeconds), limited.RateLimitRetryAfterStyle);
            }

            if (roll < pLimited + pServer)
            {
                return new FaultDecision(delay, FaultAction.ServerError, ServerErrorCodes[_random.Next(ServerErrorCodes.Length)], 0);
            }

            if (roll < pLimited + pServer + pDrop)
            {
                var after = _random.NextDouble() < Clamp(drop.DropAfterAcceptProbability);
                return new FaultDecision(delay, after ? FaultAction.DropAfterAccept : FaultAction.DropBeforeAccept, 0, 0);
            }
        }

        return new FaultDecision(delay, FaultAction.None, 0, 0);
    }

    private static double Clamp(double probability) => double.IsNaN(probability) ? 0 : Math.Clamp(probability, 0, 1);

    private static Random Create(int? seed) => seed is { } value ? new Random(value) : new Random();
}

internal enum FaultAction
{
    None,
    RateLimit,
    ServerError,
    DropBeforeAccept,
    DropAfterAccept,
}

internal readonly record struct FaultDecision(TimeSpan Delay, FaultAction Action, int StatusCode, int RetryAfterSeconds, RetryAfterStyle RetryAfterStyle = RetryAfterStyle.Seconds);
