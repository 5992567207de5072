using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>
/// The gate against simulated servers on the manual clock: a 429 pauses, only a budget cuts the rate, the cut lands
/// just under what the server accepts, and the rate comes back once the refusals stop. Minutes run in milliseconds.
/// </summary>
public sealed class RateControlTests
{
    [Fact]
    public void OneRateLimitPausesTheAccountButKeepsTheRate()
    {
        var clock = new ManualClock();
        using var gate = new RequestGate(new RequestGateOptions { RequestsPerMinute = 60, ThrottleLimit = 100 }, clock);
        gate.ReportRateLimited(TimeSpan.FromSeconds(1));

        Assert.Equal(clock.UtcNow + TimeSpan.FromSeconds(1), gate.PausedUntil);
        Assert.Equal(60, gate.EffectiveRequestsPerMinute);
        var waiting = gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask();
        clock.Advance(TimeSpan.FromSeconds(0.9));
        Assert.False(waiting.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.Equal(60, gate.EffectiveRequestsPerMinute);
        Assert.Null(gate.LearnedRequestsPerMinute);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ARealBudgetIsKeptWithFewRefusalsEvenWhenTheServerUnderstatesTheWait(bool oneSecondHint)
    {
        var server = new SlidingWindowServer(30) { OneSecondHint = oneSecondHint };
        var simulation = new Simulation(new RequestGateOptions { RequestsPerMinute = 120, ThrottleLimit = 4 }, server.Answer);
        simulation.Run(TimeSpan.FromMinutes(12), keepWaiting: 8);

        // After the first minutes the gate sends at the budget: ≥ 90 % of it accepted, under 5 % refused.
        var (accepted, refused) = simulation.Between(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(12));
        Assert.InRange(accepted, (int)(0.9 * 30 * 9), 30 * 9);
        Assert.True(refused < 0.05 * (accepted + refused), $"{refused} of {accepted + refused} requests were refused.");
        if (oneSecondHint)
        {
            // Pausing alone would probe every second and be refused most of the time: the budget had to be learned.
            Assert.InRange(simulation.Gate.LearnedRequestsPerMinute!.Value, 27, 33);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnUnlimitedGateLearnsABudgetFromRefusalsOfItsRequestsInFlight(bool oneSecondHint)
    {
        // No configured rate (the emulator's loopback default) and answers that take a moment, so up to four
        // requests are on the wire when the server's window fills: each pause alone lets the in-flight ones be refused.
        var server = new SlidingWindowServer(30) { OneSecondHint = oneSecondHint };
        var simulation = new Simulation(new RequestGateOptions { ThrottleLimit = 4 }, server.Answer) { Latency = TimeSpan.FromMilliseconds(300) };
        var trace = new List<string>();
        for (var minute = 0; minute < 13; minute++)
        {
            simulation.Run(TimeSpan.FromMinutes(1), keepWaiting: 16);
            var (a, r) = simulation.Between(TimeSpan.FromMinutes(minute), TimeSpan.FromMinutes(minute + 1));
            trace.Add($"{minute}: {a}/{r} rate {simulation.Gate.EffectiveRequestsPerMinute:0.0} learned {simulation.Gate.LearnedRequestsPerMinute:0.0}");
        }

        var (accepted, refused) = simulation.Between(TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(13));
        Assert.True(refused < 0.05 * (accepted + refused), string.Join("; ", trace));
        Assert.True(accepted >= 0.9 * 30 * 10, $"only {accepted} accepted in 10 minutes.");
        Assert.True(refused < 0.05 * (accepted + refused), $"{refused} of {accepted + refused} requests were refused.");
        Assert.InRange(simulation.Gate.LearnedRequestsPerMinute!.Value, 27, 33);
    }

    [Fact]
    public void ABudgetConfirmedAgainAndAgainIsProbedLessOften()
    {
        var server = new SlidingWindowServer(30);
        var simulation = new Simulation(new RequestGateOptions { ThrottleLimit = 4 }, server.Answer) { Latency = TimeSpan.FromMilliseconds(300) };
        simulation.Run(TimeSpan.FromMinutes(25), keepWaiting: 16);

        // A probe a minute and a half would cost six or seven 429s in these ten minutes; doubling quiet times, one or two.
        var (accepted, refused) = simulation.Between(TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(25));
        Assert.True(refused <= 3, $"{refused} refusals in ten minutes at a known budget, learned {simulation.Gate.LearnedRequestsPerMinute}, rate {simulation.Gate.EffectiveRequestsPerMinute}.");
        Assert.True(accepted >= 0.9 * 30 * 10, $"only {accepted} accepted in 10 minutes.");
    }

    [Fact]
    public void RandomRefusalsWithAOneSecondRetryAfterOnlyPause()
    {
        var random = new Random(11);
        var simulation = new Simulation(
            new RequestGateOptions { ThrottleLimit = 4 },
            _ => random.NextDouble() < 0.1 ? TimeSpan.FromSeconds(1) : null);
        simulation.Run(TimeSpan.FromMinutes(10), newEvery: TimeSpan.FromMilliseconds(500));

        // 1,200 requests wanted over ten minutes; the one-second pauses delay a few, the rate does not spiral down.
        var (accepted, refused) = simulation.Between(TimeSpan.Zero, TimeSpan.FromMinutes(10));
        Assert.True(accepted + refused >= 1150, $"only {accepted + refused} of 1200 requests were sent.");
        Assert.True(simulation.Waiting < 30, $"{simulation.Waiting} requests still waiting.");
        var rate = simulation.Gate.EffectiveRequestsPerMinute;
        Assert.True(rate is null || rate >= 100, $"the rate fell to {rate}.");
    }

    [Fact]
    public void ACutRateClimbsBackToTheCeilingAfterAboutAMinuteOfCleanAnswers()
    {
        var server = new SlidingWindowServer(20) { OneSecondHint = true };
        var simulation = new Simulation(new RequestGateOptions { RequestsPerMinute = 60, ThrottleLimit = 4 }, server.Answer);
        simulation.Run(TimeSpan.FromMinutes(4), keepWaiting: 8);
        Assert.True(simulation.Gate.EffectiveRequestsPerMinute < 30);

        // The account's budget is raised: after a clean minute, a gentle probe past the old budget, then the climb.
        server.Limit = 1000;
        simulation.Run(TimeSpan.FromMinutes(2.5), keepWaiting: 8);
        Assert.Equal(60, simulation.Gate.EffectiveRequestsPerMinute);
    }

    [Fact]
    public void TheConfiguredRateIsACeilingTheGateNeverExceeds()
    {
        var simulation = new Simulation(new RequestGateOptions { RequestsPerMinute = 20, ThrottleLimit = 4 }, new SlidingWindowServer(1000).Answer);
        simulation.Run(TimeSpan.FromMinutes(5), keepWaiting: 8);
        var (accepted, _) = simulation.Between(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5));
        Assert.InRange(accepted, 70, 82);
        Assert.Equal(20, simulation.Gate.EffectiveRequestsPerMinute);
    }

    [Theory]
    [InlineData(24)]
    [InlineData(20)]
    public void ABudgetThatShrinksBelowTheLearnedOneIsLearnedAgain(int shrunk)
    {
        // The gate learns 30 a minute; then another client starts sharing the key and leaves less. A few refusals
        // a minute at the old rate stay under the share that says "budget", so only their persistence can tell.
        var server = new SlidingWindowServer(30);
        var simulation = new Simulation(new RequestGateOptions { ThrottleLimit = 4 }, server.Answer) { Latency = TimeSpan.FromMilliseconds(300) };
        simulation.Run(TimeSpan.FromMinutes(6), keepWaiting: 16);
        Assert.InRange(simulation.Gate.LearnedRequestsPerMinute!.Value, 27, 33);

        server.Limit = shrunk;
        var trace = new List<string>();
        for (var minute = 6; minute < 20; minute++)
        {
            simulation.Run(TimeSpan.FromMinutes(1), keepWaiting: 16);
            var (a, r) = simulation.Between(TimeSpan.FromMinutes(minute), TimeSpan.FromMinutes(minute + 1));
            trace.Add($"{minute}: {a}/{r} rate {simulation.Gate.EffectiveRequestsPerMinute:0.0} learned {simulation.Gate.LearnedRequestsPerMinute:0.0}");
        }

        var (accepted, refused) = simulation.Between(TimeSpan.FromMinutes(12), TimeSpan.FromMinutes(20));
        Assert.True(refused < 0.05 * (accepted + refused), string.Join("; ", trace));
        Assert.True(accepted >= 0.85 * shrunk * 8, string.Join("; ", trace));
        Assert.InRange(simulation.Gate.LearnedRequestsPerMinute!.Value, shrunk * 0.9, shrunk * 1.1);
    }

    [Fact]
    public void ACutThatLeavesRefusalsIsTriedDeeperInsteadOfUndone()
    {
        // The budget shrinks from 24 to 20 right after the gate cut to 95 % of 24: the cut leaves a refusal every
        // few seconds. Undoing it would bring back the rate before it (here none at all, and storms of refusals);
        // one deeper cut, to what the server accepted since, ends them.
        var server = new SlidingWindowServer(24);
        var simulation = new Simulation(new RequestGateOptions { ThrottleLimit = 4 }, server.Answer) { Latency = TimeSpan.FromMilliseconds(300) };
        for (var second = 0; second < 600 && simulation.Gate.LearnedRequestsPerMinute is null; second++)
        {
            simulation.Run(TimeSpan.FromSeconds(1), keepWaiting: 16);
        }

        Assert.InRange(simulation.Gate.LearnedRequestsPerMinute!.Value, 22, 26);
        server.Limit = 20;
        var start = simulation.Elapsed;
        var trace = new List<string>();
        for (var minute = 0; minute < 12; minute++)
        {
            simulation.Run(TimeSpan.FromMinutes(1), keepWaiting: 16);
            var (a, r) = simulation.Between(start + TimeSpan.FromMinutes(minute), start + TimeSpan.FromMinutes(minute + 1));
            trace.Add($"{minute}: {a}/{r} rate {simulation.Gate.EffectiveRequestsPerMinute:0.0} learned {simulation.Gate.LearnedRequestsPerMinute:0.0}");
        }

        var (accepted, refused) = simulation.Between(start + TimeSpan.FromMinutes(6), start + TimeSpan.FromMinutes(12));
        Assert.True(refused < 0.05 * (accepted + refused), string.Join("; ", trace));
        Assert.True(accepted >= 0.85 * 20 * 6, string.Join("; ", trace));
    }

    /// <summary>A per-key limit like Segmind's: a sliding 60-second window; refused requests do not count; Retry-After says when a slot frees.</summary>
    private sealed class SlidingWindowServer
    {
        private readonly Queue<DateTimeOffset> _hits = new();

        public SlidingWindowServer(int limit)
        {
            Limit = limit;
        }

        public int Limit { get; set; }

        /// <summary>Answer every refusal with Retry-After: 1 instead of the time a slot frees.</summary>
        public bool OneSecondHint { get; set; }

        public TimeSpan? Answer(DateTimeOffset now)
        {
            while (_hits.Count > 0 && _hits.Peek() <= now - TimeSpan.FromMinutes(1))
            {
                _hits.Dequeue();
            }

            if (_hits.Count < Limit)
            {
                _hits.Enqueue(now);
                return null;
            }

            return OneSecondHint ? TimeSpan.FromSeconds(1) : _hits.Peek() + TimeSpan.FromMinutes(1) - now;
        }
    }

    /// <summary>Requests through a gate on the manual clock; each answer is instant: null accepted, else a 429 with that Retry-After.</summary>
    private sealed class Simulation
    {
        private readonly ManualClock _clock = new();
        private readonly Func<DateTimeOffset, TimeSpan?> _server;
        private readonly List<Task<IDisposable>> _waiting = new();
        private readonly List<(TimeSpan At, bool Accepted)> _answers = new();
        private readonly List<(DateTimeOffset Due, TimeSpan? Refusal, IDisposable Slot)> _onTheWire = new();
        private readonly DateTimeOffset _start;

        public Simulation(RequestGateOptions options, Func<DateTimeOffset, TimeSpan?> server)
        {
            _server = server;
            _start = _clock.UtcNow;
            Gate = new RequestGate(options, _clock);
        }

        public RequestGate Gate { get; }

        public int Waiting => _waiting.Count;

        /// <summary>Time run so far.</summary>
        public TimeSpan Elapsed => _clock.UtcNow - _start;

        /// <summary>How long each answer takes: the server decides when a request arrives, the gate hears of it this much later.</summary>
        public TimeSpan Latency { get; init; }

        /// <summary>Runs for <paramref name="duration"/>, keeping <paramref name="keepWaiting"/> requests queued, or adding one every <paramref name="newEvery"/>.</summary>
        public void Run(TimeSpan duration, int keepWaiting = 0, TimeSpan? newEvery = null)
        {
            var nextNew = _clock.UtcNow;
            _clock.AdvanceInSteps(duration, TimeSpan.FromMilliseconds(100), () =>
            {
                if (newEvery is TimeSpan every)
                {
                    while (nextNew <= _clock.UtcNow)
                    {
                        _waiting.Add(Gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask());
                        nextNew += every;
                    }
                }

                while (_waiting.Count < keepWaiting)
                {
                    _waiting.Add(Gate.EnterAsync(RequestKind.Status, CancellationToken.None).AsTask());
                }

                foreach (var granted in _waiting.Where(t => t.IsCompletedSuccessfully).ToList())
                {
                    _waiting.Remove(granted);
                    var refusal = _server(_clock.UtcNow);
                    _answers.Add((_clock.UtcNow - _start, refusal is null));
                    _onTheWire.Add((_clock.UtcNow + Latency, refusal, granted.Result));
                }

                foreach (var answer in _onTheWire.Where(a => a.Due <= _clock.UtcNow).ToList())
                {
                    _onTheWire.Remove(answer);
                    if (answer.Refusal is TimeSpan retryAfter)
                    {
                        Gate.ReportRateLimited(retryAfter - Latency > TimeSpan.Zero ? retryAfter - Latency : TimeSpan.Zero);
                    }

                    answer.Slot.Dispose();
                }
            });
        }

        public (int Accepted, int Refused) Between(TimeSpan from, TimeSpan to)
        {
            var inRange = _answers.Where(a => a.At >= from && a.At < to).ToList();
            return (inRange.Count(a => a.Accepted), inRange.Count(a => !a.Accepted));
        }
    }
}
