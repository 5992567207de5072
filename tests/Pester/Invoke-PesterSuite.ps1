<#
.SYNOPSIS
    Runs the Pester scenarios in one culture, the way a strict runbook would run them.

.DESCRIPTION
    Called by build.ps1 -Task Test once per culture, each in a fresh pwsh process: the culture is set for the whole
    process (also for threads and background jobs it starts), Set-StrictMode -Version Latest and
    $ErrorActionPreference = 'Stop' are in force, and the pinned Pester module is imported from the given folder.
    Writes one line "pester (<culture>): N passed, N failed, N skipped" and exits non-zero when a test failed.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PesterManifest,
    [string] $Culture = 'en-US',
    [string] $Path = $PSScriptRoot,
    [string] $ResultFile
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$cultureInfo = [System.Globalization.CultureInfo]::GetCultureInfo($Culture)
[System.Globalization.CultureInfo]::DefaultThreadCurrentCulture = $cultureInfo
[System.Globalization.CultureInfo]::DefaultThreadCurrentUICulture = $cultureInfo
[System.Globalization.CultureInfo]::CurrentCulture = $cultureInfo
[System.Globalization.CultureInfo]::CurrentUICulture = $cultureInfo

# The per-user submit ledger goes to a scratch folder: tests never write to the real user profile.
$env:SEGMIND_LEDGER_PATH = Join-Path ([System.IO.Path]::GetTempPath()) "segmind-pester-ledger-$PID/ledger.jsonl"
Remove-Item Env:SEGMIND_LEDGER -ErrorAction Ignore

# Logs are read as plain text (CI, files): no escape sequences.
$PSStyle.OutputRendering = 'PlainText'
Import-Module (Resolve-Path -LiteralPath $PesterManifest).Path -Force

$configuration = New-PesterConfiguration
$configuration.Run.Path = $Path
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Detailed'
if ($ResultFile) {
    $configuration.TestResult.Enabled = $true
    $configuration.TestResult.OutputFormat = 'NUnitXml'
    $configuration.TestResult.OutputPath = $ResultFile
}

$result = Invoke-Pester -Configuration $configuration
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
Write-Host "pester ($Culture): $($result.PassedCount) passed, $failed failed, $($result.SkippedCount) skipped"
if ($failed -gt 0 -or $result.Result -ne 'Passed') { exit 1 }
exit 0
