<#
.SYNOPSIS
    Builds, tests, packages or demonstrates the Segmind.WanAnimate module.

.DESCRIPTION
    A thin wrapper over the dotnet CLI: the build itself (including laying out out/Segmind.WanAnimate/, the
    importable module folder) lives in MSBuild, so `dotnet build` and `dotnet test` do the same without PowerShell.

    Build    dotnet build of the solution.
    Test     dotnet test of the solution, then the Pester 5 scenarios in tests/Pester when Pester 5 is installed.
    Package  Build, then zip out/Segmind.WanAnimate into out/Segmind.WanAnimate.<version>.zip.
    Demo     Build, start the local emulator, run a three-row CSV batch through Invoke-WanAnimate, show the results.

.EXAMPLE
    ./build.ps1 -Task Build, Test

.EXAMPLE
    ./build.ps1 -Task Demo -Configuration Debug
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Demo')]
    [string[]] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$repoRoot = $PSScriptRoot
$solution = Join-Path $repoRoot 'Segmind.PowerShell.sln'
$outRoot = Join-Path $repoRoot 'out'
$moduleDirectory = Join-Path $outRoot 'Segmind.WanAnimate'
$moduleManifest = Join-Path $moduleDirectory 'Segmind.WanAnimate.psd1'
$emulatorProject = Join-Path $repoRoot 'src/Segmind.Emulator'

function Invoke-Dotnet {
    param([Parameter(Mandatory)] [string[]] $Arguments)

    Write-Host "dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) {
        throw "dotnet $($Arguments[0]) failed with exit code $LASTEXITCODE."
    }
}

function Invoke-BuildTask {
    Invoke-Dotnet -Arguments @('build', $solution, '-c', $Configuration)
    if (-not (Test-Path -LiteralPath $moduleManifest)) {
        throw "The build did not lay out the module at $moduleManifest."
    }
}

function Invoke-TestTask {
    Invoke-Dotnet -Arguments @('test', $solution, '-c', $Configuration)

    $pester = Get-Module -ListAvailable -Name Pester |
        Where-Object Version -GE ([version] '5.0.0') |
        Sort-Object Version -Descending |
        Select-Object -First 1
    if (-not $pester) {
        Write-Warning 'Pester 5 is not installed: the scenarios in tests/Pester were skipped (Install-Module Pester -MinimumVersion 5.0).'
        return
    }

    Import-Module $pester -Force
    $result = Invoke-Pester -Path (Join-Path $repoRoot 'tests/Pester') -Output Detailed -PassThru
    if ($result.FailedCount -gt 0 -or $result.Result -ne 'Passed') {
        throw "Pester: $($result.FailedCount) test(s) failed."
    }
}

function Invoke-PackageTask {
    Invoke-BuildTask
    $version = (Import-PowerShellDataFile -Path $moduleManifest).ModuleVersion
    $zip = Join-Path $outRoot "Segmind.WanAnimate.$version.zip"
    # The zip holds the Segmind.WanAnimate folder itself, ready to unpack into a PSModulePath directory or to Publish-Module.
    Compress-Archive -Path $moduleDirectory -DestinationPath $zip -Force
    Write-Host "Packaged $zip"
}

function Get-FreeLoopbackPort {
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    try {
        $listener.Start()
        return ([System.Net.IPEndPoint] $listener.LocalEndpoint).Port
    }
    finally {
        $listener.Stop()
    }
}

function Start-Emulator {
    param([Parameter(Mandatory)] [string] $LogDirectory)

    $port = Get-FreeLoopbackPort
    $baseUri = "http://127.0.0.1:$port"
    # Start-Process joins the arguments with spaces, so the project path is quoted for checkouts under such paths.
    $arguments = @(
        'run', '--project', "`"$emulatorProject`"", '--no-build', '-c', $Configuration, '--',
        '--urls', $baseUri, '--Emulator:TimeScale=0.02'
    )
    $process = Start-Process -FilePath 'dotnet' -ArgumentList $arguments -PassThru `
        -RedirectStandardOutput (Join-Path $LogDirectory 'emulator.out.log') `
        -RedirectStandardError (Join-Path $LogDirectory 'emulator.err.log')

    $deadline = [DateTime]::UtcNow.AddSeconds(90)
    while ($true) {
        if ($process.HasExited) {
            throw "The emulator exited with code $($process.ExitCode); see the logs in $LogDirectory."
        }
        try {
            Invoke-RestMethod -Uri "$baseUri/_emulator/health" -TimeoutSec 5 | Out-Null
            break
        }
        catch {
            if ([DateTime]::UtcNow -gt $deadline) {
                throw "The emulator did not become healthy at $baseUri within 90 seconds."
            }
            Start-Sleep -Milliseconds 250
        }
    }

    [pscustomobject] @{ Process = $process; BaseUri = $baseUri }
}

function Stop-Emulator {
    param([System.Diagnostics.Process] $Process)

    if ($null -eq $Process -or $Process.HasExited) { return }
    # dotnet run starts the emulator as a child process: end the whole tree, not only the launcher.
    if ($Process.GetType().GetMethod('Kill', [type[]] @([bool]))) {
        $Process.Kill($true)
    }
    else {
        & taskkill.exe /PID $Process.Id /T /F | Out-Null
    }
    $Process.WaitForExit(10000) | Out-Null
}

function Invoke-DemoTask {
    Invoke-BuildTask

    $work = Join-Path ([System.IO.Path]::GetTempPath()) ("wan-animate-demo-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $work | Out-Null
    $outputDirectory = Join-Path $outRoot 'demo'
    $emulator = $null
    try {
        $emulator = Start-Emulator -LogDirectory $work
        Write-Host "Emulator listening at $($emulator.BaseUri)"

        Import-Module $moduleManifest -Force

        # Small local stand-ins for a video and a character image: they are uploaded to the emulator, not to Segmind.
        $video = Join-Path $work 'dance.mp4'
        $image = Join-Path $work 'character.png'
        [System.IO.File]::WriteAllBytes($video, [byte[]] (0..255))
        [System.IO.File]::WriteAllBytes($image, [byte[]] (255..0))

        $csv = Join-Path $work 'batch.csv'
        @(
            [pscustomobject] @{ Id = 'knight'; input_video = $video; reference_image = $image; prompt = 'A knight dancing in a castle hall'; mode = 'animation'; resolution = '480p' }
            [pscustomobject] @{ Id = 'robot'; input_video = $video; reference_image = $image; prompt = 'A robot walking down a busy street'; mode = 'replace'; resolution = '576p' }
            [pscustomobject] @{ Id = 'dancer'; input_video = $video; reference_image = $image; prompt = 'A dancer spinning on a stage'; mode = 'animation'; resolution = '720p' }
        ) | Export-Csv -Path $csv -NoTypeInformation

        $results = Import-Csv -Path $csv |
            Invoke-WanAnimate -OutputDirectory $outputDirectory -ApiKey 'emulator-key' -BaseUri $emulator.BaseUri -PollInterval '00:00:00.200'

        $results | Format-Table RowId, Row, RequestId, Status, Mode, Resolution, Duration, OutputFile -AutoSize | Out-Host
        Get-ChildItem -Path $outputDirectory -Filter '*.mp4' | Format-Table Name, Length -AutoSize | Out-Host

        if (@($results).Count -ne 3) {
            throw "The demo expected 3 results, got $(@($results).Count)."
        }
    }
    finally {
        if ($emulator) { Stop-Emulator -Process $emulator.Process }
        Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
    }
}

Push-Location $repoRoot
try {
    foreach ($name in $Task) {
        Write-Host "== $name ($Configuration) ==" -ForegroundColor Green
        switch ($name) {
            'Build' { Invoke-BuildTask }
            'Test' { Invoke-TestTask }
            'Package' { Invoke-PackageTask }
            'Demo' { Invoke-DemoTask }
        }
    }
}
finally {
    Pop-Location
}
