using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.Json;

// Usage: Segmind.WanAnimate.TestHost <settings.json>
// Runs `$rows | Invoke-WanAnimate -JournalPath ... -OutputDirectory ...` with the module imported from its manifest,
// and reports on stdout, one line each, what the batch produced: "RESULT <request id> <file>" and "ERROR <error id> <message>".
// The API key arrives in the settings file, never on the command line, where other processes could read it.
if (args.Length != 1)
{
    Console.Error.WriteLine("Usage: Segmind.WanAnimate.TestHost <settings.json>");
    return 2;
}

var settings = JsonSerializer.Deserialize<HostSettings>(File.ReadAllText(args[0]))
    ?? throw new InvalidOperationException("The settings file is empty.");

using var runspace = RunspaceFactory.CreateRunspace(InitialSessionState.CreateDefault2());
runspace.Open();
using var shell = PowerShell.Create();
shell.Runspace = runspace;
shell.AddScript(
    """
    param($Settings, $Rows)
    Import-Module -Name $Settings.ModuleManifest -ErrorAction Stop
    $parameters = @{
        ApiKey = $Settings.ApiKey
        BaseUri = $Settings.BaseUri
        JournalPath = $Settings.JournalPath
        OutputDirectory = $Settings.OutputDirectory
        PollInterval = $Settings.PollIntervalSeconds
        ThrottleLimit = $Settings.ThrottleLimit
    }
    if ($Settings.RequestsPerMinute -gt 0) { $parameters.RequestsPerMinute = $Settings.RequestsPerMinute }
    $Rows | Invoke-WanAnimate @parameters
    """).AddArgument(settings).AddArgument(ReadRows(settings.RowsPath));

var output = new PSDataCollection<PSObject>();
output.DataAdded += (_, e) =>
{
    var item = output[e.Index];
    Console.Out.WriteLine("RESULT " + item.Properties["RequestId"]?.Value + " " + item.Properties["OutputFile"]?.Value);
    Console.Out.Flush();
};
shell.Streams.Error.DataAdded += (_, e) =>
{
    var error = shell.Streams.Error[e.Index];
    Console.Out.WriteLine("ERROR " + error.FullyQualifiedErrorId + " " + (error.ErrorDetails?.Message ?? error.Exception?.Message));
    Console.Out.Flush();
};

try
{
    shell.Invoke(null, output);
}
catch (RuntimeException ex)
{
    Console.Out.WriteLine("TERMINATING " + ex.ErrorRecord.FullyQualifiedErrorId + " " + ex.Message);
    return 1;
}

Console.Out.WriteLine("DONE");
return 0;

// CSV-shaped rows: a JSON array of objects whose string values become the properties of one row each.
static PSObject[] ReadRows(string path)
{
    using var document = JsonDocument.Parse(File.ReadAllText(path));
    return document.RootElement.EnumerateArray().Select(element =>
    {
        var row = new PSObject();
        foreach (var property in element.EnumerateObject())
        {
            row.Properties.Add(new PSNoteProperty(property.Name, property.Value.ToString()));
        }

        return row;
    }).ToArray();
}

public sealed class HostSettings
{
    public string ModuleManifest { get; set; } = string.Empty;
    public string BaseUri { get; set; } = string.Empty;
    public string ApiKey { get; set; } = string.Empty;
    public string JournalPath { get; set; } = string.Empty;
    public string OutputDirectory { get; set; } = string.Empty;
    public string RowsPath { get; set; } = string.Empty;
    public double PollIntervalSeconds { get; set; } = 0.05;
    public int ThrottleLimit { get; set; } = 4;

    /// <summary>When positive, passed as -RequestsPerMinute (rows then wait in the pacing gate).</summary>
    public int RequestsPerMinute { get; set; }
}
