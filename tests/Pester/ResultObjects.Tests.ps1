#Requires -Version 7.2
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

# What pwsh users do with the module's objects: export them, re-import them in another culture, serialise them,
# look at them in a table. Runs against the local emulator, like Segmind.WanAnimate.Tests.ps1.

BeforeAll {
    $script:SavedApiKey = $env:SEGMIND_API_KEY
    $script:SavedBaseUrl = $env:SEGMIND_BASE_URL
    $script:SavedCulture = [System.Globalization.CultureInfo]::CurrentCulture
    $script:Emulator = $null
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:ManifestPath = Join-Path $RepoRoot 'out/Segmind.WanAnimate/Segmind.WanAnimate.psd1'
    if (-not (Test-Path -LiteralPath $ManifestPath)) { throw "Build the solution first: $ManifestPath is missing." }

    . (Join-Path $PSScriptRoot 'TestEmulator.ps1')
    $script:Emulator = Start-TestEmulator -RepoRoot $RepoRoot
    $script:BaseUri = $Emulator.BaseUri
    $env:SEGMIND_API_KEY = 'emulator-key'
    $env:SEGMIND_BASE_URL = $BaseUri
    Import-Module $ManifestPath -Force
    $script:FastPoll = '00:00:00.100'

    function New-Row {
        param([string] $Id, [string] $Mode = 'animation', [string] $Resolution = '480p', [string] $Seed = '7')
        [pscustomobject] @{
            Id = $Id; input_video = "$BaseUri/samples/$Id.mp4"; reference_image = "$BaseUri/samples/$Id.png"
            prompt = "Row $Id"; mode = $Mode; resolution = $Resolution; seed = $Seed
        }
    }

    function Use-Culture {
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [scriptblock] $Script)
        $before = [System.Globalization.CultureInfo]::CurrentCulture
        [System.Globalization.CultureInfo]::CurrentCulture = [System.Globalization.CultureInfo]::GetCultureInfo($Name)
        try { & $Script } finally { [System.Globalization.CultureInfo]::CurrentCulture = $before }
    }

    $script:IsoPattern = '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$'
}

AfterAll {
    [System.Globalization.CultureInfo]::CurrentCulture = $SavedCulture
    Remove-Module Segmind.WanAnimate -ErrorAction SilentlyContinue
    $env:SEGMIND_API_KEY = $SavedApiKey
    $env:SEGMIND_BASE_URL = $SavedBaseUrl
    Stop-TestEmulator -Emulator $Emulator
}

Describe 'Dates and durations' {
    It 'round-trip through Export-Csv in <Writer> and Import-Csv in <Reader>' -ForEach @(
        @{ Writer = 'de-DE'; Reader = 'en-US' }
        @{ Writer = 'en-US'; Reader = 'ja-JP' }
        @{ Writer = 'ja-JP'; Reader = 'de-DE' }
    ) {
        $jobsCsv = Join-Path $TestDrive "jobs-$Writer.csv"
        $jobs = @(New-Row -Id "date-$Writer" | New-WanAnimateJob)
        Use-Culture $Writer { $jobs | Export-Csv -Path $jobsCsv -NoTypeInformation }

        $results = @(Use-Culture $Reader { Import-Csv $jobsCsv | Wait-WanAnimateJob -PollInterval $FastPoll })

        $results | Should -HaveCount 1
        $results[0].SubmittedAt | Should -Match $IsoPattern
        $results[0].SubmittedAt | Should -Be $jobs[0].SubmittedAt
        $results[0].CompletedAt | Should -Match $IsoPattern
        # The job takes seconds: a misread day and month would make it months.
        ([timespan] $results[0].Duration).TotalMinutes | Should -BeLessThan 10
        ([datetimeoffset] $results[0].CompletedAt) | Should -BeGreaterOrEqual ([datetimeoffset] $results[0].SubmittedAt)
    }

    It 'serialise readably with ConvertTo-Json' {
        $result = New-Row -Id 'json' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll

        $json = $result | ConvertTo-Json -Depth 3 | ConvertFrom-Json

        $json.Duration | Should -BeOfType [string]
        $json.Duration | Should -Match '^\d{2}:\d{2}:\d{2}$'
    }
}

Describe 'Result values in Export-Csv' {
    It 'keeps Cost, InferenceTime and QueueTime as columns and Metrics as JSON' {
        $csv = Join-Path $TestDrive 'results.csv'
        $result = New-Row -Id 'flat' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll

        Use-Culture 'de-DE' { $result | Export-Csv -Path $csv -NoTypeInformation }
        $row = Import-Csv $csv

        $row.Cost | Should -Not -BeNullOrEmpty
        $row.InferenceTime | Should -Not -BeNullOrEmpty
        $row.QueueTime | Should -Not -BeNullOrEmpty
        $row.Metrics | Should -Not -Match 'Hashtable'
        ($row.Metrics | ConvertFrom-Json).cost | Should -Be $result.Cost
        $result.Metrics.cost | Should -Be $result.Cost
    }
}
