# Starts and stops a local emulator for a Pester file (dot-source it in BeforeAll). Prefers the Release build that
# `dotnet build -c Release` and build.ps1 -Task Test produce; without one, dotnet run builds the emulator first.

function Start-TestEmulator {
    param([Parameter(Mandatory)] [string] $RepoRoot, [string] $TimeScale = '0.01')

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $port = ([System.Net.IPEndPoint] $listener.LocalEndpoint).Port
    $listener.Stop()
    $baseUri = "http://127.0.0.1:$port"

    $logs = Join-Path ([System.IO.Path]::GetTempPath()) ("wan-animate-pester-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $logs | Out-Null
    $dll = Join-Path $RepoRoot 'src/Segmind.Emulator/bin/Release/net10.0/Segmind.Emulator.dll'
    $start = if (Test-Path -LiteralPath $dll) { @("`"$dll`"") }
    else { @('run', '--project', "`"$(Join-Path $RepoRoot 'src/Segmind.Emulator')`"", '-c', 'Release', '--') }
    $arguments = @($start) + @('--urls', $baseUri, "--Emulator:TimeScale=$TimeScale")
    $process = Start-Process -FilePath 'dotnet' -ArgumentList $arguments -PassThru `
        -RedirectStandardOutput (Join-Path $logs 'out.log') -RedirectStandardError (Join-Path $logs 'err.log')

    $deadline = [DateTime]::UtcNow.AddMinutes(3)
    while ($true) {
        if ($process.HasExited) { throw "The emulator exited with code $($process.ExitCode); logs in $logs." }
        try {
            Invoke-RestMethod -Uri "$baseUri/_emulator/health" -TimeoutSec 5 | Out-Null
            break
        }
        catch {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The emulator at $baseUri did not become healthy; logs in $logs." }
            Start-Sleep -Milliseconds 250
        }
    }

    [pscustomobject] @{ Process = $process; BaseUri = $baseUri; Logs = $logs }
}

function Stop-TestEmulator {
    param($Emulator)

    if ($null -eq $Emulator) { return }
    if (-not $Emulator.Process.HasExited) {
        # Under dotnet run the emulator is a child process: end the whole tree.
        $Emulator.Process.Kill($true)
        $Emulator.Process.WaitForExit(10000) | Out-Null
    }
    Remove-Item -LiteralPath $Emulator.Logs -Recurse -Force -ErrorAction SilentlyContinue
}
