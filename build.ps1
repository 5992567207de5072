<#
.SYNOPSIS
    Builds, tests, packages or demonstrates the Segmind.WanAnimate module.

.DESCRIPTION
    A thin wrapper over the dotnet CLI: the build itself (including laying out out/Segmind.WanAnimate/, the
    importable module folder) lives in MSBuild, so `dotnet build` and `dotnet test` do the same without PowerShell.

    Build    dotnet build of the solution.
    Test     Every test: dotnet test of the solution, then the Pester scenarios in real pwsh under en-US, de-DE and
             ja-JP (Pester pinned and restored from NuGet). Ends with one line of totals.
    Package  Build, then zip out/Segmind.WanAnimate into out/Segmind.WanAnimate.<version>.zip.
    Demo     Build, start the local emulator, run a three-row CSV batch through New | Wait | Save, show the results,
             stop the emulator
             and write out/demo/gallery.html.

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
    # To the host, not the pipeline: a function that calls this returns only what it means to return.
    & dotnet @Arguments | Out-Host
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

function Get-PesterManifest {
    # The pinned Pester comes from NuGet (its tools/ folder is the module) into an ignored folder of the repository,
    # so a fresh clone needs nothing but `dotnet tool restore`.
    $restoreProject = Join-Path $repoRoot 'tests/Pester/Restore/Pester.Restore.csproj'
    $packages = Join-Path $repoRoot '.tools/nuget'
    Invoke-Dotnet -Arguments @('restore', $restoreProject, '--packages', $packages)
    $manifest = Get-ChildItem -Path (Join-Path $packages 'pester') -Filter 'Pester.psd1' -Recurse |
        Select-Object -First 1
    if (-not $manifest) { throw "Pester was not restored into $packages." }
    $manifest.FullName
}

function Install-Azurite {
    # The journal-table tests start Azurite's table service themselves (a real Table endpoint on loopback).
    $azurite = Join-Path $repoRoot '.tools/azurite'
    if (-not (Test-Path -LiteralPath (Join-Path $azurite 'node_modules/.bin/azurite-table'))) {
        & npm install --prefix $azurite azurite@3.37.0 --no-audit --no-fund --loglevel=error
        if ($LASTEXITCODE -ne 0) { throw "npm could not install Azurite into $azurite." }
    }
}

function Invoke-TestTask {
    # Every test: the xunit suites (core, emulator, hosted module), then the Pester scenarios in real pwsh under
    # three cultures with strict mode and $ErrorActionPreference = 'Stop'. Ends with one line of totals.
    $totals = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $failures = [System.Collections.Generic.List[string]]::new()

    Install-Azurite
    Write-Host "dotnet test $solution -c $Configuration" -ForegroundColor Cyan
    & dotnet test $solution -c $Configuration 2>&1 | ForEach-Object {
        $line = "$_"
        Write-Host $line
        if ($line -match 'Failed:\s+(\d+),\s+Passed:\s+(\d+),\s+Skipped:\s+(\d+)') {
            $totals.Failed += [int] $Matches[1]; $totals.Passed += [int] $Matches[2]; $totals.Skipped += [int] $Matches[3]
        }
    }
    if ($LASTEXITCODE -ne 0) { $failures.Add("dotnet test exited with $LASTEXITCODE") }

    $pester = Get-PesterManifest
    # This very pwsh runs the suites; as a dotnet tool it is `dotnet exec pwsh.dll`.
    $self = (Get-Process -Id $PID).Path
    $pwshPrefix = if ([System.IO.Path]::GetFileNameWithoutExtension($self) -eq 'dotnet') { @('exec', (Join-Path $PSHOME 'pwsh.dll')) } else { @() }
    $suite = Join-Path $repoRoot 'tests/Pester/Invoke-PesterSuite.ps1'
    $resultDirectory = Join-Path $repoRoot 'out/test-results'
    New-Item -ItemType Directory -Path $resultDirectory -Force | Out-Null
    foreach ($culture in 'en-US', 'de-DE', 'ja-JP') {
        Write-Host "pester in $culture" -ForegroundColor Cyan
        $savedLang = $env:LANG; $savedAll = $env:LC_ALL
        $env:LANG = "$($culture.Replace('-', '_')).UTF-8"; $env:LC_ALL = $env:LANG
        try {
            & $self @pwshPrefix -NoProfile -NonInteractive -File $suite -PesterManifest $pester -Culture $culture `
                -ResultFile (Join-Path $resultDirectory "pester-$culture.xml") 2>&1 | ForEach-Object {
                $line = "$_"
                Write-Host $line
                if ($line -match '^pester \([^)]+\): (\d+) passed, (\d+) failed, (\d+) skipped') {
                    $totals.Passed += [int] $Matches[1]; $totals.Failed += [int] $Matches[2]; $totals.Skipped += [int] $Matches[3]
                }
            }
            if ($LASTEXITCODE -ne 0) { $failures.Add("Pester in $culture exited with $LASTEXITCODE") }
        }
        finally {
            $env:LANG = $savedLang; $env:LC_ALL = $savedAll
        }
    }

    Write-Host "tests: $($totals.Passed) passed, $($totals.Failed) failed, $($totals.Skipped) skipped"
    if ($failures.Count -gt 0) { throw ($failures -join '; ') }
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
    # The emulator the build just made, started directly (dotnet run would add a second process and a build check).
    # Start-Process joins the arguments with spaces, so the path is quoted for checkouts under such paths.
    $emulatorDll = Join-Path $emulatorProject "bin/$Configuration/net10.0/Segmind.Emulator.dll"
    $start = if (Test-Path -LiteralPath $emulatorDll) { @("`"$emulatorDll`"") }
    else { @('run', '--project', "`"$emulatorProject`"", '--no-build', '-c', $Configuration, '--') }
    $arguments = @($start) + @('--urls', $baseUri, '--Emulator:TimeScale=0.02')
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
    # Each demo starts from an empty folder, so what it lists and shows is this run's batch only.
    if (Test-Path -LiteralPath $outputDirectory) { Remove-Item -LiteralPath $outputDirectory -Recurse -Force }
    $emulator = $null
    try {
        $emulator = Start-Emulator -LogDirectory $work
        Write-Host "Emulator listening at $($emulator.BaseUri)"

        Import-Module $moduleManifest -Force

        # Small local stand-ins for a video and a character image: they are uploaded to the emulator, not to Segmind.
        # They stay beside the outputs, so the demo's gallery can show the character image.
        $inputs = New-Item -ItemType Directory -Path (Join-Path $outputDirectory 'inputs') -Force
        $video = Join-Path $inputs 'dance.mp4'
        $image = Join-Path $inputs 'character.png'
        [System.IO.File]::WriteAllBytes($video, [byte[]] (0..255))
        [System.IO.File]::WriteAllBytes($image, [Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAAEAAAABACAIAAAAlC+aJAAAAvElEQVR42u3YsQ2AMAxEUU+SmooJKJiImRiHcRgBShogAseJnS9dRXVPoMRGxnlxHQEAAAAAAABKZt9Wf4Cz9F0cAB7alzCIcXt1g9i31zVIlfaKBgAAmgB8aK9l4A0AAMBNHGcWijCNRtgHfG9k2zDlBMAnQGY5rQAAAMD2FCpXEUDJrwsAgP+nE4DOAZZ3FoB4APvJB0AkQK35GUAMQN0tDIB3QAu7fN+Ah6Q0XPP6vLmfuwAAAHAOsM8Boy4DTbPmtQQAAAAASUVORK5CYII='))

        $csv = Join-Path $work 'batch.csv'
        @(
            [pscustomobject] @{ Id = 'knight'; input_video = $video; reference_image = $image; prompt = 'A knight dancing in a castle hall'; mode = 'animation'; resolution = '480p' }
            [pscustomobject] @{ Id = 'robot'; input_video = $video; reference_image = $image; prompt = 'A robot walking down a busy street'; mode = 'replace'; resolution = '576p' }
            [pscustomobject] @{ Id = 'dancer'; input_video = $video; reference_image = $image; prompt = 'A dancer spinning on a stage'; mode = 'animation'; resolution = '720p' }
        ) | Export-Csv -Path $csv -NoTypeInformation

        # The main job, as a user runs it: submit every row, wait for all, save each video.
        $connection = @{ ApiKey = 'emulator-key'; BaseUri = $emulator.BaseUri }
        $results = Import-Csv -Path $csv |
            New-WanAnimateJob @connection |
            Wait-WanAnimateJob @connection -PollInterval '00:00:00.200' |
            Save-WanAnimateOutput @connection -Directory $outputDirectory -FileName '{RowId}.mp4' -Force

        $results | Sort-Object Row | Format-Table | Out-Host
        Get-ChildItem -Path $outputDirectory -Filter '*.mp4' | Format-Table Name, Length -AutoSize | Out-Host

        if (@($results).Count -ne 3) {
            throw "The demo expected 3 results, got $(@($results).Count)."
        }

        # The batch as one page beside its videos (the README's screenshot, docs/gallery.png, is this page).
        $gallery = $results | Export-WanAnimateGallery -Path (Join-Path $outputDirectory 'gallery.html') -Title 'Wan Animate demo batch (local emulator)'
        Write-Host "Gallery of the batch: $($gallery.FullName)"
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
