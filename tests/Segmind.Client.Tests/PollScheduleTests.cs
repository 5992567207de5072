using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class PollScheduleTests
{
    /// <summary>A Random whose every draw is the same, to pin jitter at its extremes.</summary>
    private sealed class FixedRandom(double value) : Random
    {
        public override double NextDouble() => value;
    }

    /// <summary>Polls of a job lasting <paramref name="jobSeconds"/>: one at once, then one after each delay, until one lands after the end.</summary>
    private static int PollsFor(PollSchedule schedule, double jobSeconds, Random random)
    {
        var elapsed = 0.0;
        var polls = 1;
        for (var attempt = 0; elapsed < jobSeconds; attempt++)
        {
            elapsed += schedule.NextDelay(attempt, random).TotalSeconds;
            polls++;
        }

        return polls;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.5)]
    [InlineData(0.999999)]
    public void DefaultScheduleNeedsAtMostFortyPollsForAFourHundredSecondJob(double draw)
    {
        var polls = PollsFor(PollSchedule.Default, 400, new FixedRandom(draw));

        Assert.InRange(polls, 20, 40);
    }

    [Fact]
    public void DefaultScheduleNeedsAtMostFortyPollsWithRandomJitter()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            Assert.InRange(PollsFor(PollSchedule.Default, 400, new Random(seed)), 20, 40);
        }
    }

    [Fact]
    public void DelaysGrowByTheFactorUpToTheCeiling()
    {
        var schedule = new PollSchedule(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10), factor: 2, jitter: 0);
        var random = new Random(1);

        var delays = Enumerable.Range(0, 6).Select(attempt => schedule.NextDelay(attempt, random).TotalSeconds).ToArray();

        Assert.Equal(new[] { 2.0, 4.0, 8.0, 10.0, 10.0, 10.0 }, delays);
    }

    [Fact]
    public void JitterStaysWithinItsSpread()
    {
        var schedule = new PollSchedule(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), factor: 1, jitter: 0.2);

        Assert.Equal(8.0, schedule.NextDelay(0, new FixedRandom(0)).TotalSeconds, 6);
        Assert.Equal(12.0, schedule.NextDelay(0, new FixedRandom(1)).TotalSeconds, 6);
        var random = new Random(7);
        for (var i = 0; i < 1000; i++)
        {
            Assert.InRange(schedule.NextDelay(i, random).TotalSeconds, 8.0, 12.0);
        }
    }

    [Fact]
    public void HugeAttemptNumbersDoNotOverflow()
    {
        var delay = PollSchedule.Default.NextDelay(int.MaxValue, new FixedRandom(0.5));

        Assert.Equal(PollSchedule.Default.Max, delay);
    }

    [Fact]
    public void FixedScheduleKeepsItsInterval()
    {
        var schedule = PollSchedule.Fixed(TimeSpan.FromSeconds(5));

        Assert.InRange(schedule.NextDelay(0, new Random(3)).TotalSeconds, 4.5, 5.5);
        Assert.InRange(schedule.NextDelay(30, new Random(3)).TotalSeconds, 4.5, 5.5);
    }

    [Theory]
    [InlineData(0, 10, 1.5, 0.2)]
    [InlineData(10, 5, 1.5, 0.2)]
    [InlineData(1, 5, 0.5, 0.2)]
    [InlineData(1, 5, 1.5, 1.0)]
    [InlineData(1, 5, 1.5, -0.1)]
    public void RefusesNonsense(double initialSeconds, double maxSeconds, double factor, double jitter)
    {
        var error = Assert.Throws<SegmindValidationException>(() =>
            new PollSchedule(TimeSpan.FromSeconds(initialSeconds), TimeSpan.FromSeconds(maxSeconds), factor, jitter));

        Assert.Equal("PollInterval", error.Field);
    }
}
