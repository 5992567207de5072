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

Describe 'Saving' {
    It 'by request id from a CSV of jobs keeps the job''s data' {
        $jobsCsv = Join-Path $TestDrive 'save-jobs.csv'
        $jobs = @(New-Row -Id 'keep-data' -Mode 'replace' | New-WanAnimateJob)
        $jobs | Export-Csv -Path $jobsCsv -NoTypeInformation
        $jobs | Wait-WanAnimateJob -PollInterval $FastPoll | Out-Null

        $saved = @(Import-Csv $jobsCsv | Save-WanAnimateOutput -Directory (Join-Path $TestDrive 'by-id'))

        $saved | Should -HaveCount 1
        foreach ($name in 'RowId', 'Row', 'Prompt', 'Mode', 'Resolution', 'SubmittedAt', 'InputVideo', 'ReferenceImage') {
            "$($saved[0].$name)" | Should -Be "$($jobs[0].$name)" -Because "$name comes from the job"
        }
        $saved[0].Duration | Should -Not -BeNullOrEmpty
        $saved[0].Cost | Should -BeGreaterThan 0
        ([datetimeoffset] $saved[0].CompletedAt) | Should -BeGreaterOrEqual ([datetimeoffset] $saved[0].SubmittedAt)
    }

    It 'from a CSV of results keeps their completion time instead of the fetch time' {
        $resultsCsv = Join-Path $TestDrive 'save-results.csv'
        $result = New-Row -Id 'keep-completion' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll
        $result | Export-Csv -Path $resultsCsv -NoTypeInformation
        Start-Sleep -Milliseconds 1100

        $saved = Import-Csv $resultsCsv | Save-WanAnimateOutput -Directory (Join-Path $TestDrive 'from-results')

        $saved.CompletedAt | Should -Be $result.CompletedAt
        $saved.Duration | Should -Be $result.Duration
    }

    It 'keeps only a verifiably complete file and replaces a damaged one' {
        $dir = Join-Path $TestDrive 'verify'
        $result = New-Row -Id 'verify' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll
        $first = $result | Save-WanAnimateOutput -Directory $dir
        $length = (Get-Item -LiteralPath $first.OutputFile).Length

        [System.IO.File]::WriteAllBytes($first.OutputFile, [byte[]] (1..10))
        $repaired = $result | Save-WanAnimateOutput -Directory $dir
        $written = (Get-Item -LiteralPath $repaired.OutputFile).LastWriteTimeUtc
        $kept = $result | Save-WanAnimateOutput -Directory $dir

        (Get-Item -LiteralPath $repaired.OutputFile).Length | Should -Be $length
        (Get-Item -LiteralPath $kept.OutputFile).LastWriteTimeUtc | Should -Be $written
        @(Get-ChildItem -LiteralPath $dir -Filter '*.partial') | Should -HaveCount 0
    }

    It 'refuses an unrelated file at -Path unless -Force' {
        $path = Join-Path $TestDrive 'final.mp4'
        Set-Content -LiteralPath $path -Value 'my own notes'
        $result = New-Row -Id 'unrelated' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll

        $refused = @($result | Save-WanAnimateOutput -Path $path -ErrorVariable saveErrors -ErrorAction SilentlyContinue)
        $contentAfterRefusal = Get-Content -LiteralPath $path -Raw
        $forced = $result | Save-WanAnimateOutput -Path $path -Force

        $refused | Should -HaveCount 0
        $saveErrors | Should -HaveCount 1
        $saveErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.OutputFileExists,*'
        $saveErrors[0].CategoryInfo.Category | Should -Be 'ResourceExists'
        $contentAfterRefusal | Should -Match 'my own notes'
        $forced.OutputFile | Should -Be $path
        (Get-Item -LiteralPath $path).Length | Should -BeGreaterThan 100
    }

    It 'follows the same rule in Invoke-WanAnimate -OutFile, before anything is paid' {
        $path = Join-Path $TestDrive 'invoke-final.mp4'
        Set-Content -LiteralPath $path -Value 'not a video'
        $before = (Get-SegmindCredit).Credits

        $refused = @(New-Row -Id 'invoke-refused' | Invoke-WanAnimate -OutFile $path -PollInterval $FastPoll -ErrorVariable invokeErrors -ErrorAction SilentlyContinue)
        $creditsAfterRefusal = (Get-SegmindCredit).Credits
        $forced = New-Row -Id 'invoke-forced' | Invoke-WanAnimate -OutFile $path -Force -PollInterval $FastPoll

        $refused | Should -HaveCount 0
        $invokeErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.OutputFileExists,*'
        $creditsAfterRefusal | Should -Be $before
        $forced.OutputFile | Should -Be $path
        (Get-Item -LiteralPath $path).Length | Should -BeGreaterThan 100
    }
}

Describe 'Default views' {
    BeforeAll {
        $script:ViewJob = New-Row -Id 'a-long-row-identity-for-the-view' | New-WanAnimateJob
        $script:ViewResult = $ViewJob | Wait-WanAnimateJob -PollInterval $FastPoll |
            Save-WanAnimateOutput -Directory (Join-Path $TestDrive 'a folder with a rather long name for the view test')
        $script:ViewStatus = Get-WanAnimateStatus -RequestId $ViewJob.RequestId
    }

    It 'show a <Name> on one line of an 80-column console, <Lead> first' -ForEach @(
        @{ Name = 'job'; Lead = 'RowId' }
        @{ Name = 'result'; Lead = 'RowId' }
        @{ Name = 'status'; Lead = 'RequestId' }
    ) {
        $value = @{ job = $ViewJob; result = $ViewResult; status = $ViewStatus }[$Name]

        $lines = @(($value | Format-Table | Out-String -Width 80) -split "`r?`n" | Where-Object { $_.Trim() })

        # Header, dashes, one row: nothing wrapped.
        $lines | Should -HaveCount 3
        foreach ($line in $lines) { $line.Length | Should -BeLessOrEqual 80 }
        $lines[0] | Should -Match "^$Lead\s"
    }
}

Describe 'Error messages' {
    It 'say once how long Segmind keeps a result when a job is not found' {
        Get-WanAnimateStatus -RequestId 'no-such-request' -ErrorVariable notFound -ErrorAction SilentlyContinue

        $shown = "$($notFound[0]) $($notFound[0].ErrorDetails.RecommendedAction)"
        [regex]::Matches($shown, '1 hour').Count | Should -Be 1
    }
}

Describe 'Output names from the row' {
    It 'names files with -FileName placeholders, made safe and inside the folder' {
        $dir = Join-Path $TestDrive 'named'
        $results = @(
            New-Row -Id 'hero-01'
            New-Row -Id '../escape'
        ) | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll

        $saved = @($results | Save-WanAnimateOutput -Directory $dir -FileName '{RowId}-{Row}.mp4')

        ($saved | Where-Object RowId -eq 'hero-01').OutputFile | Should -Be (Join-Path $dir 'hero-01-1.mp4')
        $escape = ($saved | Where-Object RowId -eq '../escape').OutputFile
        Split-Path -Parent $escape | Should -Be $dir
        Split-Path -Leaf $escape | Should -Be '_escape-2.mp4'
    }

    It 'refuses a second job given a name already used, and an unknown placeholder' {
        $dir = Join-Path $TestDrive 'collide'
        $results = @(New-Row -Id 'same-a'; New-Row -Id 'same-b') | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll

        $saved = @($results | Save-WanAnimateOutput -Directory $dir -FileName 'fixed.mp4' -ErrorVariable nameErrors -ErrorAction SilentlyContinue)

        $saved | Should -HaveCount 1
        $nameErrors | Should -HaveCount 1
        $nameErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.InvalidArgument,*'
        "$($nameErrors[0])" | Should -Match 'fixed\.mp4'
        { $results | Save-WanAnimateOutput -Directory $dir -FileName '{Prompt}.mp4' } | Should -Throw -ErrorId 'WanAnimate.InvalidArgument,*'
    }

    It 'works the same in Invoke-WanAnimate, refusing a colliding row before it is paid for' {
        $dir = Join-Path $TestDrive 'invoke-named'
        $before = (Get-SegmindCredit).Credits
        $rows = @(New-Row -Id 'twin'; New-Row -Id 'twin')

        $results = @($rows | Invoke-WanAnimate -OutputDirectory $dir -FileName '{Id}.mp4' -PollInterval $FastPoll -ErrorVariable invokeErrors -ErrorAction SilentlyContinue)

        $results | Should -HaveCount 1
        $results[0].OutputFile | Should -Be (Join-Path $dir 'twin.mp4')
        $invokeErrors | Should -HaveCount 1
        "$($invokeErrors[0])" | Should -Match 'Nothing was sent'
        (Get-SegmindCredit).Credits | Should -Be ($before - $results[0].Cost)
    }
}

# Last: the 429 test slows this emulator's shared request budget down for what follows.
Describe 'Tracing' {
    It '-Debug shows every HTTP exchange with the key redacted' {
        $records = @(Get-SegmindCredit -Debug 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] })

        $records | Should -HaveCount 1
        $records[0].Message | Should -Match '^HTTP GET http://127\.0\.0\.1:\d+/v1/get-user-credits \(x-api-key: \[redacted\]\) -> 200 OK in \d+ ms, attempt 1$'
        ($records.Message -join "`n") | Should -Not -Match 'emulator-key'
    }

    It '-Debug alone never prompts: the cmdlet''s verbose lines come as debug lines' {
        # PowerShell turns a compiled cmdlet's verbose line into a prompt under -Debug alone; this suite runs
        # -NonInteractive, where such a prompt would fail the command.
        $stream = @(New-Row -Id 'debug-only' | New-WanAnimateJob -Debug 5>&1)

        @($stream | Where-Object { $_ -is [Segmind.WanAnimate.WanAnimateJob] }) | Should -HaveCount 1
        $debug = @($stream | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message -join "`n"
        $debug | Should -Match 'Row \d+: submitted as \S+\.'
        $debug | Should -Match 'HTTP POST \S+/v2/wan-animate \(x-api-key: \[redacted\]\) -> 200'
    }

    It '-Debug says that output downloads carry no key' {
        $result = New-Row -Id 'debug-download' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll
        $stream = @($result | Save-WanAnimateOutput -Directory (Join-Path $TestDrive 'debug-download') -Debug 5>&1)

        $downloads = @($stream | Where-Object { $_ -is [System.Management.Automation.DebugRecord] -and $_.Message -match '^HTTP GET \S+\.mp4' })
        $downloads.Count | Should -BeGreaterThan 0
        $downloads[0].Message | Should -Match '\(no key\)'
        $downloads[0].Message | Should -Not -Match 'x-api-key'
    }

    It '-Verbose shows the waits' {
        $verbose = @(New-Row -Id 'verbose-wait' | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll -Verbose 4>&1 |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })

        # Each poll is told. Once earlier tests' jobs have completed, the first poll is planned for when the job can
        # have ended, so it may be the only one and find the job done.
        ($verbose.Message -join "`n") | Should -Match 'Job \S+ is (QUEUED|PROCESSING); waiting\.|Job \S+ is COMPLETED\.'
    }

    It '-Verbose shows each retry after a 429 with its reason' {
        Invoke-RestMethod -Method Post -Uri "$BaseUri/_emulator/options" -ContentType 'application/json' `
            -Body '{"Faults":{"Credits":{"RateLimitFaultProbability":1,"RateLimitRetryAfterSeconds":1}}}' | Out-Null
        try {
            $stream = @(Get-SegmindCredit -Verbose -ErrorAction SilentlyContinue -ErrorVariable limited 4>&1)
        }
        finally {
            Invoke-RestMethod -Method Post -Uri "$BaseUri/_emulator/options" -ContentType 'application/json' `
                -Body '{"Faults":{"Credits":{"RateLimitFaultProbability":0}}}' | Out-Null
        }

        $retries = @($stream | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -like 'Retrying GET*' })
        $retries.Count | Should -BeGreaterThan 0
        $retries[0].Message | Should -Match 'attempt 1 failed\): .*429'
        $limited[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.RateLimited,*'
    }
}
