using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// The API key every test uses, distinctive enough that finding it in any text is proof of a leak, and the
/// process-wide watch for it: every exception thrown anywhere in the test run is checked as it is thrown.
/// </summary>
public static class TestKeys
{
    public const string Secret = "sk-test-0c9f5e71-DO-NOT-LEAK";
    public const string Other = "sk-test-other-4b1d";

    private static readonly ConcurrentQueue<string> Leaks = new();

    static TestKeys()
    {
        AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
    }

    public static ApiKey Key => new(Secret);

    /// <summary>Makes sure the watch is installed (touching the class runs its static constructor).</summary>
    public static void Watch() { }

    /// <summary>Fails when any exception thrown so far carried the key in its message or server message.</summary>
    public static void AssertNoLeak()
    {
        Assert.True(Leaks.IsEmpty, "The API key appeared in exceptions: " + string.Join(" | ", Leaks.Select(leak => leak.Replace(Secret, "<KEY>"))));
    }

    /// <summary>Checks one exception in depth: message, ToString (inner exceptions, stack) and server message.</summary>
    public static void AssertClean(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            Assert.DoesNotContain(Secret, current.Message, StringComparison.Ordinal);
            if (current is SegmindException segmind)
            {
                Assert.DoesNotContain(Secret, segmind.ServerMessage ?? string.Empty, StringComparison.Ordinal);
            }
        }

        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
    }

    private static void OnFirstChance(object? sender, FirstChanceExceptionEventArgs args)
    {
        try
        {
            var error = args.Exception;
            if (error.Message.Contains(Secret, StringComparison.Ordinal)
                || (error is SegmindException segmind && (segmind.ServerMessage?.Contains(Secret, StringComparison.Ordinal) ?? false)))
            {
                Leaks.Enqueue(error.GetType().Name + ": " + error.Message);
            }
        }
        catch
        {
            // A watcher must never become the failure it watches for.
        }
    }
}

/// <summary>Runs code that must fail, returns the typed exception, and checks it for the key on the way.</summary>
public static class Expect
{
    public static async Task<T> ThrowsAsync<T>(Func<Task> action)
        where T : Exception
    {
        var error = await Assert.ThrowsAsync<T>(action);
        TestKeys.AssertClean(error);
        return error;
    }

    /// <summary>Like <see cref="ThrowsAsync{T}"/> but accepts subclasses (TaskCanceledException for OperationCanceledException).</summary>
    public static async Task<T> ThrowsAnyAsync<T>(Func<Task> action)
        where T : Exception
    {
        var error = await Assert.ThrowsAnyAsync<T>(action);
        TestKeys.AssertClean(error);
        return error;
    }
}
