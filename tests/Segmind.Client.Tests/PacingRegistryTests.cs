using Segmind.Client;
using Xunit;

namespace Segmind.Client.Tests;

public sealed class PacingRegistryTests
{
    // Each test uses its own keys: the registry is process-wide and other tests share the process.
    private static ApiKey NewKey() => new("registry-test-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public void OneGatePerKeyAndHostWhateverThePath()
    {
        var key = NewKey();
        var first = RequestGateRegistry.Shared(key, new Uri("https://api.segmind.com/"));
        var samePlace = RequestGateRegistry.Shared(new ApiKey(RevealForTest(key)), new Uri("https://API.segmind.com/v2/"));
        Assert.Same(first, samePlace);
        Assert.IsType<RequestGate>(first);
    }

    [Fact]
    public void DifferentKeysHostsPortsOrSchemesGetDifferentGates()
    {
        var key = NewKey();
        var baseGate = RequestGateRegistry.Shared(key, new Uri("https://api.segmind.com/"));
        Assert.NotSame(baseGate, RequestGateRegistry.Shared(NewKey(), new Uri("https://api.segmind.com/")));
        Assert.NotSame(baseGate, RequestGateRegistry.Shared(key, new Uri("https://other.segmind.com/")));
        Assert.NotSame(baseGate, RequestGateRegistry.Shared(key, new Uri("https://api.segmind.com:8443/")));
        Assert.NotSame(baseGate, RequestGateRegistry.Shared(key, new Uri("http://api.segmind.com/")));
    }

    [Fact]
    public void LoopbackDefaultsToUnlimitedAndSegmindToTwentyAMinute()
    {
        var key = NewKey();
        foreach (var loopback in new[] { "http://127.0.0.1:5123/", "http://localhost:5123/", "http://[::1]:5123/" })
        {
            var gate = RequestGateRegistry.Get(key, new Uri(loopback));
            Assert.Null(gate.EffectiveRequestsPerMinute);
            Assert.Null(gate.Options.RequestsPerMinute);
            Assert.Equal(RequestGateOptions.DefaultThrottleLimit, gate.Options.ThrottleLimit);
        }

        var hosted = RequestGateRegistry.Get(key, new Uri("https://api.segmind.com/"));
        Assert.Equal(20, hosted.EffectiveRequestsPerMinute);
        Assert.Equal(4, hosted.Options.ThrottleLimit);
    }

    [Fact]
    public void ConfigureChangesTheSharedGateOfThatAccountOnly()
    {
        var key = NewKey();
        var other = NewKey();
        var address = new Uri("https://api.segmind.com/");
        var configured = RequestGateRegistry.Configure(key, address, throttleLimit: 2, requestsPerMinute: 5);
        Assert.Same(configured, RequestGateRegistry.Shared(key, address));
        Assert.Equal(2, configured.Options.ThrottleLimit);
        Assert.Equal(5, configured.EffectiveRequestsPerMinute);
        Assert.Equal(20, RequestGateRegistry.Get(other, address).EffectiveRequestsPerMinute);

        // Null leaves a setting alone; 0 means unlimited.
        RequestGateRegistry.Configure(key, address, throttleLimit: null, requestsPerMinute: 0);
        Assert.Equal(2, configured.Options.ThrottleLimit);
        Assert.Null(configured.EffectiveRequestsPerMinute);
    }

    [Fact]
    public void TheGateNameNeverContainsTheKey()
    {
        var secret = "registry-secret-" + Guid.NewGuid().ToString("N");
        var name = RequestGateRegistry.GateName(new ApiKey(secret), new Uri("https://api.segmind.com/"));
        Assert.DoesNotContain(secret, name);
        Assert.Contains("api.segmind.com:443", name);
    }

    private static string RevealForTest(ApiKey key) => key.Reveal();
}
