using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Segmind.Emulator;

/// <summary>
/// A running emulator: a real Kestrel server speaking Segmind's API over HTTP. Start one per test on port 0, or
/// from the command line (see <see cref="Program"/>).
/// </summary>
public sealed class EmulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly EmulatorState _state;
    private int _disposed;

    private EmulatorServer(WebApplication app, EmulatorState state, Uri baseUri, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        _state = state;
        BaseUri = baseUri;
        UploadUri = new Uri(baseUri, "upload-asset");
        Addresses = addresses;
    }

    /// <summary>The API's base address, with a trailing slash, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri BaseUri { get; }

    /// <summary>The upload-asset endpoint.</summary>
    public Uri UploadUri { get; }

    /// <summary>Every address the server listens on.</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>The live options: changes apply to the next request.</summary>
    public EmulatorOptions Options => _state.Options;

    public EmulatorCounters Counters => _state.Counters;

    /// <summary>The emulated clock (seconds) that queue, processing, retention and the rate-limit window run on.</summary>
    public ScaledClock Clock => _state.Clock;

    /// <summary>Binds <c>http://127.0.0.1:0</c> unless <see cref="EmulatorOptions.Urls"/> says otherwise. Logs warnings only.</summary>
    public static Task<EmulatorServer> StartAsync(EmulatorOptions options, CancellationToken ct = default) =>
        StartAsync(options, LogLevel.Warning, ct);

    internal static async Task<EmulatorServer> StartAsync(EmulatorOptions options, LogLevel logLevel, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var endpoints = ListenAddress.ParseAll(options.Urls ?? EmulatorOptions.InProcessUrl, options.AllowRemote);

        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(EmulatorServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        // A failed start is thrown to the caller, who reports it; the host's own stack-trace log only adds noise.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.AddRoutingCore();
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(5));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Each endpoint enforces its own body cap and answers 413 itself (uploads may exceed Kestrel's default).
            kestrel.Limits.MaxRequestBodySize = null;
            foreach (var endpoint in endpoints)
            {
                endpoint.Apply(kestrel);
            }
        });

        var app = builder.Build();
        var state = new EmulatorState(options);
        var stopping = app.Lifetime.ApplicationStopping;
        app.Use((context, next) => EmulatorMiddleware.InvokeAsync(context, next, state, stopping));
        app.UseRouting();
        EmulatorEndpoints.Map(app, state);
        app.UseEndpoints(_ => { });
        app.Run(context => HttpHelpers.WriteErrorAsync(context, 404, "Not found: " + context.Request.Path.Value));

        try
        {
            await app.StartAsync(ct).ConfigureAwait(false);
        }
        catch
        {
            await state.DisposeAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
            ?? (ICollection<string>)Array.Empty<string>();
        var addresses = bound.Select(address => LoopbackFor(new Uri(address))).ToList();
        if (addresses.Count == 0)
        {
            await state.DisposeAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw new InvalidOperationException("The server started but reported no address.");
        }

        // Prefer an IPv4 loopback address as the one clients are given.
        var baseUri = addresses.FirstOrDefault(uri => uri.HostNameType == UriHostNameType.IPv4) ?? addresses[0];
        return new EmulatorServer(app, state, baseUri, addresses);
    }

    /// <summary>Clears jobs, counters, uploads and rate-limit windows; credits go back to StartingCredits.</summary>
    public void Reset() => _state.Reset();

    /// <summary>Makes a job's result vanish now: its id answers 404 afterwards.</summary>
    public void ExpireJob(string requestId) => _state.Scheduler.Expire(requestId);

    /// <summary>Finishes a queued or running job now (COMPLETED, or FAILED if it was set to fail).</summary>
    public void CompleteJob(string requestId) => _state.Scheduler.Complete(requestId);

    /// <summary>A job's current state, or null when unknown or expired.</summary>
    public JobView? GetJob(string requestId) => _state.Scheduler.Find(requestId);

    /// <summary>The credits an API key has left.</summary>
    public decimal GetCredits(string apiKey) => _state.Credits.Balance(apiKey);

    /// <summary>Sets an API key's balance, e.g. to test the insufficient-credits answer.</summary>
    public void SetCredits(string apiKey, decimal credits) => _state.Credits.SetBalance(apiKey, credits);

    /// <summary>Completes when the server is asked to stop (Ctrl+C, SIGTERM, or <see cref="DisposeAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken ct = default) => _app.WaitForShutdownAsync(ct);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Release blocked v1 runs first so shutdown does not wait for their jobs.
        await _state.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _app.StopAsync().ConfigureAwait(false);
        }
        finally
        {
            await _app.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static Uri LoopbackFor(Uri address)
    {
        // A wildcard bind is reachable from this machine through loopback.
        var host = address.Host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "[::]" => "[::1]",
            _ => address.Host,
        };
        return new UriBuilder(address) { Host = host, Path = "/" }.Uri;
    }
}

/// <summary>One address to listen on, checked: http only, and loopback unless remote access was allowed.</summary>
internal sealed class ListenAddress
{
    private readonly IPAddress? _ip;
    private readonly bool _localhost;
    private readonly int _port;

    private ListenAddress(IPAddress? ip, bool localhost, int port)
    {
        _ip = ip;
        _localhost = localhost;
        _port = port;
    }

    public static IReadOnlyList<ListenAddress> ParseAll(string urls, bool allowRemote)
    {
        var parts = urls.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new ArgumentException("No address to listen on was given.");
        }

        return parts.Select(part => Parse(part, allowRemote)).ToList();
    }

    private static ListenAddress Parse(string url, bool allowRemote)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0 || !string.Equals(url[..schemeEnd], "http", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"'{url}' is not an http:// address (the emulator speaks plain HTTP only).");
        }

        var rest = url[(schemeEnd + 3)..].TrimEnd('/');
        var colon = rest.LastIndexOf(':');
        if (colon < 0 || rest.EndsWith(']') || !int.TryParse(rest[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new ArgumentException($"'{url}' needs an explicit port, e.g. http://127.0.0.1:5080.");
        }

        var host = rest[..colon].Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new ListenAddress(port == 0 ? IPAddress.Loopback : null, port != 0, port);
        }

        IPAddress ip;
        if (host is "*" or "+")
        {
            ip = IPAddress.IPv6Any;
        }
        else if (!IPAddress.TryParse(host, out ip!))
        {
            throw new ArgumentException($"'{url}': give an IP address or localhost, not a host name.");
        }

        if (!IPAddress.IsLoopback(ip) && !allowRemote)
        {
            throw new ArgumentException($"Refusing to listen on '{url}', which is reachable from other machines. Use a loopback address (127.0.0.1) or pass --allow-remote.");
        }

        return new ListenAddress(ip, false, port);
    }

    public void Apply(Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions kestrel)
    {
        if (_localhost)
        {
            kestrel.ListenLocalhost(_port);
        }
        else
        {
            kestrel.Listen(_ip!, _port);
        }
    }
}
