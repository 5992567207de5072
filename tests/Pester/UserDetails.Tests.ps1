#Requires -Version 7.2
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

# The details pwsh users notice: objects exported and re-imported in another culture, serialised, shown in a table;
# CSV rows with bad values; no prompts; saving. Runs against the local emulator, like Segmind.WanAnimate.Tests.ps1.

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

Describe 'CSV rows with a bad mode, resolution or seed' {
    It 'each get WanAnimate.InvalidArgument naming the row and the field, and the other rows are submitted' {
        $csv = Join-Path $TestDrive 'mixed.csv'
        @(
            New-Row -Id 'fine-1'
            New-Row -Id 'bad-mode' -Mode 'dance'
            New-Row -Id 'bad-resolution' -Resolution '1080p'
            New-Row -Id 'bad-seed' -Seed 'forty-two'
            New-Row -Id 'fine-5' -Mode 'REPLACE' -Resolution '' -Seed ''
        ) | Export-Csv -Path $csv -NoTypeInformation

        $jobs = @(Import-Csv $csv | New-WanAnimateJob -ErrorVariable rowErrors -ErrorAction SilentlyContinue)

        ($jobs.RowId | Sort-Object) | Should -Be @('fine-1', 'fine-5')
        ($jobs | Where-Object RowId -eq 'fine-5').Mode | Should -Be 'replace'
        $rowErrors | Should -HaveCount 3
        foreach ($case in @(
                @{ Row = 2; Field = 'Mode'; Id = 'bad-mode' }
                @{ Row = 3; Field = 'Resolution'; Id = 'bad-resolution' }
                @{ Row = 4; Field = 'Seed'; Id = 'bad-seed' })) {
            $record = $rowErrors | Where-Object { $_.TargetObject.Id -eq $case.Id }
            $record.FullyQualifiedErrorId | Should -BeLike 'WanAnimate.InvalidArgument,*'
            $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
            "$record" | Should -Match "^Row $($case.Row):"
            "$record" | Should -Match $case.Field
        }
    }

    It 'keeps ValidateSet on the command line, for completion and checks' {
        $completions = (TabExpansion2 -inputScript 'New-WanAnimateJob -Mode ' -cursorColumn 24).CompletionMatches.CompletionText

        $completions | Should -Be @('animation', 'replace')
        { New-WanAnimateJob -InputVideo "$BaseUri/a.mp4" -ReferenceImage "$BaseUri/a.png" -Prompt 'p' -Mode 'dance' } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}

Describe 'No prompts' {
    It '<Command> without input says what it needs instead of prompting' -ForEach @(
        @{ Command = 'Wait-WanAnimateJob'; Script = { Wait-WanAnimateJob } }
        @{ Command = 'Save-WanAnimateOutput'; Script = { Save-WanAnimateOutput -Directory (Join-Path $TestDrive 'nothing') } }
    ) {
        # A prompt in a non-interactive runbook would hang or fail with the host's own message; this must not prompt.
        $record = $Script | Should -Throw -ErrorId 'WanAnimate.InvalidArgument,*' -PassThru

        $record.Exception.Message | Should -Match '-RequestId'
        $record.Exception.Message | Should -Match '-JournalPath'
    }
}
