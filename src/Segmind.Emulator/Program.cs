using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Segmind.Emulator;

/// <summary>
/// <c>dotnet run --project src/Segmind.Emulator -- [--urls http://127.0.0.1:5080] [--allow-remote] [--Emulator:Name=value ...]</c>
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Any(arg => arg is "--help" or "-h" or "-?" or "/?"))
        {
            Console.Out.Write(HelpText());
            return 0;
        }

        EmulatorOptions options;
        try
        {
            options = ParseOptions(args);
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException or FormatException)
        {
            Console.Error.WriteLine("error: " + error.Message);
            Console.Error.WriteLine("Run with --help to see the options.");
            return 2;
        }

        EmulatorServer server;
        try
        {
            server = await EmulatorServer.StartAsync(options, LogLevel.Warning, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error) when (error is ArgumentException or IOException or InvalidOperationException)
        {
            Console.Error.WriteLine("error: " + error.Message);
            return 2;
        }

        await using (server.ConfigureAwait(false))
        {
            Console.Out.Write(Banner(server));
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });

            try
            {
                await server.WaitForShutdownAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            Console.Out.WriteLine("Stopping.");
        }

        return 0;
    }

    /// <summary>Options from the command line: <c>--urls</c>, <c>--allow-remote</c> and the <c>Emulator</c> section.</summary>
    internal static EmulatorOptions ParseOptions(string[] args)
    {
        var allowRemote = args.Contains("--allow-remote", StringComparer.OrdinalIgnoreCase);
        var rest = args.Where(arg => !string.Equals(arg, "--allow-remote", StringComparison.OrdinalIgnoreCase)).ToArray();
        var configuration = new ConfigurationBuilder().AddCommandLine(rest).Build();

        var unknown = configuration.GetChildren()
            .Select(child => child.Key)
            .Where(key => !string.Equals(key, "urls", StringComparison.OrdinalIgnoreCase) && !string.Equals(key, EmulatorOptions.SectionName, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException("Unknown option(s): " + string.Join(", ", unknown.Select(key => "--" + key)));
        }

        var options = new EmulatorOptions();
        var section = configuration.GetSection(EmulatorOptions.SectionName);

        // The binder appends to a list that already has items, so a given key list replaces the default one.
        if (section.GetSection(nameof(EmulatorOptions.ApiKeys)).GetChildren().Any())
        {
            options.ApiKeys = new List<string>();
        }

        section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        options.Urls = configuration["urls"] ?? options.Urls ?? EmulatorOptions.DefaultCommandLineUrl;
        options.AllowRemote |= allowRemote;

        var problem = options.Validate();
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }

        return options;
    }

    internal static string Banner(EmulatorServer server)
    {
        var options = server.Options;
        var processingReal = options.ProcessingSeconds * options.TimeScale;
        var lines = new List<string>
        {
            "Segmind emulator is running.",
            "  Base URL:    " + server.BaseUri,
            "  Python SDK:  base_url=" + new Uri(server.BaseUri, "v1"),
            "  Upload URL:  " + server.UploadUri,
            "  API key(s):  " + string.Join(", ", options.ApiKeys),
            string.Create(CultureInfo.InvariantCulture, $"  Time scale:  {options.TimeScale} (a {options.ProcessingSeconds:0.###} s job takes {processingReal:0.###} s)"),
            "  Counters:    " + new Uri(server.BaseUri, "_emulator/counters"),
        };
        foreach (var extra in server.Addresses.Skip(1))
        {
            lines.Add("  Also on:     " + extra);
        }

        lines.Add("Press Ctrl+C to stop.");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    internal static string HelpText()
    {
        var lines = new List<string>
        {
            "Segmind emulator: a local Segmind-compatible API (wan-animate) with a job queue, credits, rate limits,",
            "fault injection and a time scale. The API keys it accepts are fake.",
            "",
            "Usage:",
            "  dotnet run --project src/Segmind.Emulator -- [--urls http://127.0.0.1:5080] [--allow-remote] [--Emulator:Name=value ...]",
            "",
            "  --urls URL[;URL]   Where to listen (default " + EmulatorOptions.DefaultCommandLineUrl + "). Loopback only unless --allow-remote.",
            "  --allow-remote     Allow a non-loopback address such as http://0.0.0.0:5080.",
            "  --help             Show this text.",
            "",
            "Options (--Emulator:Name=value; a list takes --Emulator:ApiKeys:0=a --Emulator:ApiKeys:1=b):",
        };

        var defaults = new EmulatorOptions();
        foreach (var property in typeof(EmulatorOptions).GetProperties())
        {
            if (property.Name is nameof(EmulatorOptions.Faults) or nameof(EmulatorOptions.Urls) or nameof(EmulatorOptions.AllowRemote))
            {
                continue;
            }

            lines.Add(OptionLine("  --Emulator:" + property.Name, property, defaults));
        }

        lines.Add("");
        lines.Add("Faults (--Emulator:Faults:<Group>:Name=value). Groups: All, " + string.Join(", ", Enum.GetNames<EndpointGroup>()) + ".");
        lines.Add("A group's own settings win for a kind of fault it enables; otherwise All's apply.");
        var profile = new FaultProfile();
        foreach (var property in typeof(FaultProfile).GetProperties())
        {
            lines.Add(OptionLine("  --Emulator:Faults:<Group>:" + property.Name, property, profile));
        }

        lines.Add("");
        lines.Add("Example: dotnet run --project src/Segmind.Emulator -- --urls http://127.0.0.1:5080 --Emulator:TimeScale=0.02 --Emulator:Faults:Status:ServerErrorProbability=0.1");
        lines.Add("Admin (no key, never faulted): GET /_emulator/counters, POST /_emulator/reset, GET /_emulator/health.");
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    private static string OptionLine(string name, PropertyInfo property, object defaults)
    {
        var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description ?? string.Empty;
        var value = property.GetValue(defaults) switch
        {
            null => "unset",
            string text => text.Length == 0 ? "\"\"" : text,
            System.Collections.IEnumerable list => "[" + string.Join(", ", list.Cast<object>()) + "]",
            IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
            var other => other.ToString() ?? string.Empty,
        };
        return $"{name,-58} {description} (default: {value})";
    }
}
