using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

/// <summary>The learner alone, on explicit times.</summary>
public sealed class RateLearnerTests
{
    [Fact]
    public void PausesThatEmptiedTheLastMinuteDoNotMakeTheLearnedBudgetTiny()
    {
        // A burst of 30 accepted at once, four refused; the exact Retry-After holds everything for a minute; then
        // three bursts of requests in flight refused together as the window reopens.
        var learner = new RateLearner();
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        double? rate = null;
        var log = new List<string>();
        for (var i = 0; i < 30; i++)
        {
            learner.OnAnswer(t0 + TimeSpan.FromMilliseconds(10 * i));
        }

        for (var i = 0; i < 4; i++)
        {
            rate = learner.OnRateLimited(t0 + TimeSpan.FromMilliseconds(400), i == 0, rate, null);
            learner.OnAnswer(t0 + TimeSpan.FromMilliseconds(400));
        }

        for (var burst = 0; burst < 3; burst++)
        {
            var at = t0 + TimeSpan.FromSeconds(61 + (3 * burst));
            learner.OnAnswer(at);
            for (var i = 0; i < 3; i++)
            {
                rate = learner.OnRateLimited(at, i == 0, rate, null);
                learner.OnAnswer(at);
                log.Add($"{burst}.{i}: rate {rate} learned {learner.LearnedBudget}");
            }
        }

        Assert.True(learner.LearnedBudget > 27, string.Join("; ", log));

        Assert.InRange(learner.LearnedBudget!.Value, 27, 33);
        Assert.InRange(rate!.Value, 25, 32);
    }
}
