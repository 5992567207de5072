using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Segmind.Client.Tests.TestSupport;

/// <summary>
/// A real Azure Table endpoint for tests: Azurite's table service (the npm package, installed into
/// <c>.tools/azurite</c> by the build's Test task and CI), started on a free loopback port, in memory, and killed
/// when the fixture is disposed. Never a mock.
/// </summary>
public sealed class AzuriteServer : IAsyncLifetime
{
    /// <summary>The emulator's development account and its published key (the same on every machine).</summary>
    public const string Account = "devstoreaccount1";
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Where the tests look for Azurite: the variable, else the repository's .tools folder.</summary>
    public const string PathVariable = "SEGMIND_AZURITE_TABLE";

    private Process? _process;
    private readonly StringBuilder _log = new();
    private int _tableCounter;

    public int Port { get; private set; }

    /// <summary>The path-style service address, ending in the account: http://127.0.0.1:port/devstoreaccount1/.</summary>
    public Uri ServiceUri => new($"http://127.0.0.1:{Port}/{Account}/");

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{Port}/{Account};";

    /// <summary>A table address of a fresh, unique table name (the table itself is not created).</summary>
    public string NewTableAddress(string prefix = "journal") =>
        $"http://127.0.0.1:{Port}/{Account}/{prefix}{Environment.ProcessId}x{Interlocked.Increment(ref _tableCounter)}";

    public async Task InitializeAsync()
    {
        var executable = FindExecutable();
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var start = new ProcessStartInfo(executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in new[]
            {
                "--tableHost", "127.0.0.1", "--tablePort", Port.ToString(), "--inMemoryPersistence",
                "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--disableProductStyleUrl",
            })
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
            _process.OutputDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
            _process.ErrorDataReceived += (_, e) => { lock (_log) { _log.AppendLine(e.Data); } };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();

            // Generous: node starts slowly on a loaded machine. Readiness is a listening port, not a timer.
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                if (await AcceptsAsync(Port))
                {
                    return;
                }

                await Task.Delay(200);
            }

            Stop();
            if (attempt >= 3)
            {
                string log;
                lock (_log) { log = _log.ToString(); }
                throw new InvalidOperationException("Azurite's table service did not start listening on port " + Port + ". Its output:\n" + log);
            }
        }
    }

    public Task DisposeAsync()
    {
        Stop();
        return Task.CompletedTask;
    }

    /// <summary>
    /// A table SAS for <paramref name="table"/> with <paramref name="permissions"/> (r, a, u, d), signed with the
    /// development key, valid for an hour: what an automation account would be given.
    /// </summary>
    public static string TableSas(string table, string permissions, DateTimeOffset? expiry = null)
    {
        const string version = "2019-02-02";
        var expires = (expiry ?? DateTimeOffset.UtcNow.AddHours(1)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");
        var toSign = string.Join("\n", permissions, string.Empty, expires, $"/table/{Account}/{table.ToLowerInvariant()}", string.Empty, string.Empty, string.Empty, version, string.Empty, string.Empty, string.Empty, string.Empty);
        using var hmac = new HMACSHA256(Convert.FromBase64String(AccountKey));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(toSign)));
        return $"sv={version}&tn={table}&sp={permissions}&se={Uri.EscapeDataString(expires)}&sig={Uri.EscapeDataString(signature)}";
    }

    /// <summary>Creates a table with the development key (SharedKeyLite), independently of the code under test.</summary>
    public async Task CreateTableAsync(string table)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(ServiceUri, "Tables"))
        {
            Content = new StringContent("{\"TableName\":\"" + table + "\"}", Encoding.UTF8, "application/json"),
        };
        var date = DateTimeOffset.UtcNow.ToString("R");
        request.Headers.TryAddWithoutValidation("x-ms-date", date);
        request.Headers.TryAddWithoutValidation("x-ms-version", "2019-02-02");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;odata=nometadata");
        using var hmac = new HMACSHA256(Convert.FromBase64String(AccountKey));
        var signature = Convert.ToBase64String(hmac.ComputeHash(Encoding.UTF8.GetBytes(date + "\n/" + Account + "/" + Account + "/Tables")));
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKeyLite {Account}:{signature}");
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Azurite did not create table {table}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>Every entity of <paramref name="table"/> as the raw JSON text the service returns (read with a read-only SAS).</summary>
    public async Task<string> RawEntitiesAsync(string table)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(ServiceUri, table + "()?" + TableSas(table, "r")));
        request.Headers.TryAddWithoutValidation("x-ms-version", "2019-02-02");
        request.Headers.TryAddWithoutValidation("Accept", "application/json;odata=nometadata");
        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    private void Stop()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        process.Dispose();
    }

    private static string FindExecutable()
    {
        var configured = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return configured;
        }

        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Segmind.PowerShell.sln")))
            {
                var candidate = Path.Combine(directory.FullName, ".tools", "azurite", "node_modules", ".bin", OperatingSystem.IsWindows() ? "azurite-table.cmd" : "azurite-table");
                if (File.Exists(candidate))
                {
                    return candidate;
                }

                throw new InvalidOperationException(
                    "Azurite is not installed: run 'npm install --prefix .tools/azurite azurite@3.37.0' in the repository (the build's Test task does it), or set "
                    + PathVariable + " to an azurite-table executable.");
            }
        }

        throw new InvalidOperationException("The repository root (Segmind.PowerShell.sln) was not found above " + AppContext.BaseDirectory);
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task<bool> AcceptsAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
