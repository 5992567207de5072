using Segmind.Emulator;
using Xunit;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// A test class against the shared emulator, reset for every test: the emulator, a gate that records every
/// request, and clients bound to both.
/// </summary>
public abstract class EmulatorTest : IClassFixture<EmulatorFixture>
{
    protected EmulatorTest(EmulatorFixture emulator)
    {
        Emulator = emulator;
        emulator.Reset();
    }

    protected EmulatorFixture Emulator { get; }

    protected RecordingGate Gate { get; } = new();

    protected EmulatorServer Server => Emulator.Server;

    protected SegmindClient Client(Action<SegmindClientOptions>? adjust = null) => Emulator.CreateClient(Gate, adjust);
}
