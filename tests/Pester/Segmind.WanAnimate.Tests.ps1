#Requires -Version 7.2
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

# User scenarios against the local emulator: run after `dotnet build` (which lays out out/Segmind.WanAnimate) with
#   Invoke-Pester tests/Pester -Output Detailed
# The emulator runs 100 times faster than Segmind (a 400-second job takes about 4 seconds).

BeforeAll {
    # Set first, so AfterAll (under strict mode) can always restore and clean up, even after a failed start.
    $script:SavedApiKey = $env:SEGMIND_API_KEY
    $script:SavedBaseUrl = $env:SEGMIND_BASE_URL
    $script:Emulator = $null
    $script:EmulatorLogs = $null
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:ManifestPath = Join-Path $RepoRoot 'out/Segmind.WanAnimate/Segmind.WanAnimate.psd1'
    if (-not (Test-Path -LiteralPath $ManifestPath)) {
        throw "Build the solution first: $ManifestPath is missing."
    }

    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $port = ([System.Net.IPEndPoint] $listener.LocalEndpoint).Port
    $listener.Stop()
    $script:BaseUri = "http://127.0.0.1:$port"
    $script:ApiKey = 'emulator-key'

    $script:EmulatorLogs = Join-Path ([System.IO.Path]::GetTempPath()) ("wan-animate-pester-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $EmulatorLogs | Out-Null
    # The Release build (what `dotnet build -c Release` and build.ps1 -Task Test produce) starts in a second;
    # without one, dotnet run builds the emulator first.
    $emulatorDll = Join-Path $RepoRoot 'src/Segmind.Emulator/bin/Release/net10.0/Segmind.Emulator.dll'
    $emulatorStart = if (Test-Path -LiteralPath $emulatorDll) { @("`"$emulatorDll`"") }
    else { @('run', '--project', "`"$(Join-Path $RepoRoot 'src/Segmind.Emulator')`"", '-c', 'Release', '--') }
    $emulatorArguments = @($emulatorStart) + @('--urls', $BaseUri, '--Emulator:TimeScale=0.01')
    $script:Emulator = Start-Process -FilePath 'dotnet' -ArgumentList $emulatorArguments -PassThru `
        -RedirectStandardOutput (Join-Path $EmulatorLogs 'out.log') -RedirectStandardError (Join-Path $EmulatorLogs 'err.log')

    # The first start may build the emulator: be patient.
    $deadline = [DateTime]::UtcNow.AddMinutes(3)
    while ($true) {
        if ($Emulator.HasExited) { throw "The emulator exited with code $($Emulator.ExitCode); logs in $EmulatorLogs." }
        try {
            Invoke-RestMethod -Uri "$BaseUri/_emulator/health" -TimeoutSec 5 | Out-Null
            break
        }
        catch {
            if ([DateTime]::UtcNow -gt $deadline) { throw "The emulator at $BaseUri did not become healthy; logs in $EmulatorLogs." }
            Start-Sleep -Milliseconds 250
        }
    }

    # Everything in this file talks to the emulator, also background jobs and threads of this process.
    $env:SEGMIND_API_KEY = $ApiKey
    $env:SEGMIND_BASE_URL = $BaseUri

    # The per-user submit ledger goes to this run's TestDrive, never to the real user profile.
    $script:SavedLedgerPath = $env:SEGMIND_LEDGER_PATH
    $env:SEGMIND_LEDGER_PATH = Join-Path $TestDrive 'ledger.jsonl'

    Import-Module $ManifestPath -Force

    # Input URLs point at the emulator itself, so nothing could ever leave the machine.
    function New-BatchCsv {
        param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [ValidateSet('ApiNames', 'ParameterNames')] [string] $HeaderStyle, [int] $Rows = 2)
        $records = foreach ($i in 1..$Rows) {
            $values = [ordered] @{
                Id    = "row-$i"
                Video = "$BaseUri/samples/dance-$i.mp4"
                Image = "$BaseUri/samples/character-$i.png"
                Prompt = "Scenario row $i dancing"
                Mode  = @('animation', 'replace')[$i % 2]
                Resolution = '480p'
            }
            if ($HeaderStyle -eq 'ApiNames') {
                [pscustomobject] @{ Id = $values.Id; input_video = $values.Video; reference_image = $values.Image; prompt = $values.Prompt; mode = $values.Mode; resolution = $values.Resolution; seed = '42'; base64 = 'false' }
            }
            else {
                [pscustomobject] @{ Id = $values.Id; InputVideo = $values.Video; ReferenceImage = $values.Image; Prompt = $values.Prompt; Mode = $values.Mode; Resolution = $values.Resolution; Seed = '42'; Base64 = '' }
            }
        }
        $records | Export-Csv -Path $Path -NoTypeInformation
        $Path
    }

    $script:FastPoll = '00:00:00.100'
}

AfterAll {
    Remove-Module Segmind.WanAnimate -ErrorAction SilentlyContinue
    $env:SEGMIND_API_KEY = $SavedApiKey
    $env:SEGMIND_BASE_URL = $SavedBaseUrl
    $env:SEGMIND_LEDGER_PATH = $SavedLedgerPath
    if ($Emulator -and -not $Emulator.HasExited) {
        # Under dotnet run the emulator is a child process: end the whole tree.
        $Emulator.Kill($true)
        $Emulator.WaitForExit(10000) | Out-Null
    }
    if ($EmulatorLogs) { Remove-Item -LiteralPath $EmulatorLogs -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'A CSV batch end to end' {
    Context 'with <HeaderStyle> headers' -ForEach @(
        @{ HeaderStyle = 'ApiNames' }
        @{ HeaderStyle = 'ParameterNames' }
    ) {
        It 'submits every row, waits, and saves each video named after its request id' {
            $csv = New-BatchCsv -Path (Join-Path $TestDrive "batch-$HeaderStyle.csv") -HeaderStyle $HeaderStyle -Rows 3
            $outDir = Join-Path $TestDrive "out-$HeaderStyle"

            $results = @(Import-Csv $csv | New-WanAnimateJob | Wait-WanAnimateJob -PollInterval $FastPoll | Save-WanAnimateOutput -Directory $outDir)

            $results | Should -HaveCount 3
            foreach ($result in $results) {
                $result.Status | Should -Be 'COMPLETED'
                $result.OutputFile | Should -Be (Join-Path $outDir "$($result.RequestId).mp4")
                (Get-Item -LiteralPath $result.OutputFile).Length | Should -BeGreaterThan 0
                $result.Seed | Should -Be 42
            }
            ($results.RowId | Sort-Object) | Should -Be @('row-1', 'row-2', 'row-3')
            ($results.Row | Sort-Object) | Should -Be @(1, 2, 3)
            ($results | Where-Object RowId -eq 'row-1').Prompt | Should -Be 'Scenario row 1 dancing'
        }
    }
}

Describe 'Job objects exported to CSV' {
    It 'bind back into Wait-WanAnimateJob after Import-Csv' {
        $csv = New-BatchCsv -Path (Join-Path $TestDrive 'batch.csv') -HeaderStyle ApiNames -Rows 2
        $jobsCsv = Join-Path $TestDrive 'jobs.csv'

        $jobs = @(Import-Csv $csv | New-WanAnimateJob)
        $jobs | Export-Csv -Path $jobsCsv -NoTypeInformation
        $results = @(Import-Csv $jobsCsv | Wait-WanAnimateJob -PollInterval $FastPoll)

        $results | Should -HaveCount 2
        ($results.RequestId | Sort-Object) | Should -Be ($jobs.RequestId | Sort-Object)
        foreach ($result in $results) {
            $job = $jobs | Where-Object RequestId -eq $result.RequestId
            $result.RowId | Should -Be $job.RowId
            $result.Prompt | Should -Be $job.Prompt
            $result.Output | Should -Not -BeNullOrEmpty
        }
    }

    It 'keeps its string form as the request id' {
        $job = New-WanAnimateJob -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'String form'

        "$job" | Should -Be $job.RequestId
        $job | Wait-WanAnimateJob -PollInterval $FastPoll | Should -Not -BeNullOrEmpty
    }
}

Describe '-WhatIf' {
    It 'submits nothing and charges nothing' {
        $before = (Get-SegmindCredit).Credits

        $jobs = @(New-WanAnimateJob -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'Not sent' -WhatIf)
        $results = @(Invoke-WanAnimate -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'Not sent either' -OutputDirectory (Join-Path $TestDrive 'none') -WhatIf)

        $jobs | Should -HaveCount 0
        $results | Should -HaveCount 0
        (Get-SegmindCredit).Credits | Should -Be $before
        Join-Path $TestDrive 'none' | Should -Not -Exist
    }

    It 'does not upload local files' {
        $video = Join-Path $TestDrive 'local.mp4'
        [System.IO.File]::WriteAllBytes($video, [byte[]] (1..64))
        $uploadsBefore = (Invoke-RestMethod -Uri "$BaseUri/_emulator/counters").uploaded_assets

        New-WanAnimateJob -InputVideo $video -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'Local file' -WhatIf -ErrorAction Stop

        (Invoke-RestMethod -Uri "$BaseUri/_emulator/counters").uploaded_assets | Should -Be $uploadsBefore
    }

    It 'uploads local files to the emulator when it runs for real' {
        $video = Join-Path $TestDrive 'real-upload.mp4'
        [System.IO.File]::WriteAllBytes($video, [byte[]] (1..64))
        $uploadsBefore = (Invoke-RestMethod -Uri "$BaseUri/_emulator/counters").uploaded_assets

        $job = New-WanAnimateJob -InputVideo $video -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'Local file, uploaded'

        $job.InputVideo | Should -Be $video
        (Invoke-RestMethod -Uri "$BaseUri/_emulator/counters").uploaded_assets | Should -BeGreaterThan $uploadsBefore
    }
}

Describe 'Rows with bad values' {
    It 'are reported one by one, with the field and the row, while the good rows are submitted' {
        $rows = @(
            [pscustomobject] @{ Id = 'good'; input_video = "$BaseUri/samples/a.mp4"; reference_image = "$BaseUri/samples/a.png"; prompt = 'A good row' }
            [pscustomobject] @{ Id = 'blank-prompt'; input_video = "$BaseUri/samples/b.mp4"; reference_image = "$BaseUri/samples/b.png"; prompt = '   ' }
            [pscustomobject] @{ Id = 'missing-file'; input_video = (Join-Path $TestDrive 'no-such-video.mp4'); reference_image = "$BaseUri/samples/c.png"; prompt = 'A missing file' }
        )
        $before = (Get-SegmindCredit).Credits

        $jobs = @($rows | New-WanAnimateJob -ErrorVariable rowErrors -ErrorAction SilentlyContinue)

        $jobs | Should -HaveCount 1
        $jobs[0].RowId | Should -Be 'good'
        $rowErrors | Should -HaveCount 2
        foreach ($record in $rowErrors) {
            $record.FullyQualifiedErrorId | Should -BeLike 'WanAnimate.InvalidArgument*'
            $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }
        ($rowErrors | Where-Object { $_.TargetObject.Id -eq 'blank-prompt' }).Exception.Message | Should -Match 'prompt'
        ($rowErrors | Where-Object { $_.TargetObject.Id -eq 'missing-file' }).Exception.Message | Should -Match 'input_?video'
        (Get-SegmindCredit).Credits | Should -BeLessThan $before
    }
}

Describe 'Background work' {
    It 'runs Invoke-WanAnimate -AsJob and returns its results through Receive-Job' {
        $job = Invoke-WanAnimate -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'In the background' -PollInterval $FastPoll -AsJob

        $job | Should -BeOfType [System.Management.Automation.Job]
        $job | Wait-Job -Timeout 300 | Out-Null
        $job.State | Should -Be 'Completed'
        $results = @($job | Receive-Job)
        $job | Remove-Job

        $results | Should -HaveCount 1
        $results[0].Status | Should -Be 'COMPLETED'
    }

    It 'works from Start-ThreadJob' {
        $threadJob = Start-ThreadJob -ScriptBlock {
            Import-Module $using:ManifestPath
            Invoke-WanAnimate -InputVideo "$using:BaseUri/samples/a.mp4" -ReferenceImage "$using:BaseUri/samples/a.png" -Prompt 'In a thread job' -ApiKey $using:ApiKey -BaseUri $using:BaseUri -PollInterval $using:FastPoll
        }

        $results = @($threadJob | Receive-Job -Wait -AutoRemoveJob)

        $results | Should -HaveCount 1
        $results[0].Status | Should -Be 'COMPLETED'
    }

    It 'works from ForEach-Object -Parallel, one batch row per thread' {
        $results = @(1..3 | ForEach-Object -ThrottleLimit 3 -Parallel {
                Import-Module $using:ManifestPath
                Invoke-WanAnimate -InputVideo "$using:BaseUri/samples/p$_.mp4" -ReferenceImage "$using:BaseUri/samples/p$_.png" -Prompt "Parallel row $_" -Id "parallel-$_" -PollInterval $using:FastPoll
            })

        $results | Should -HaveCount 3
        ($results.RowId | Sort-Object) | Should -Be @('parallel-1', 'parallel-2', 'parallel-3')
        ($results.RequestId | Select-Object -Unique) | Should -HaveCount 3
    }
}

Describe 'A wrong key on a large -AsJob batch' {
    It 'stops after the requests in flight and writes one error for <Command>' -ForEach @(
        @{ Command = 'New-WanAnimateJob' }
        @{ Command = 'Invoke-WanAnimate' }
    ) {
        $secret = 'not-the-emulator-key-5678'
        $rows = 1..1000 | ForEach-Object { [pscustomobject] @{ InputVideo = "$BaseUri/samples/k$_.mp4"; ReferenceImage = "$BaseUri/samples/k.png"; Prompt = "Wrong key row $_" } }
        $before = (Invoke-RestMethod -Uri "$BaseUri/_emulator/counters").total_requests

        $job = $rows | & $Command -ApiKey $secret -AsJob
        $job | Wait-Job -Timeout 300 | Out-Null
        $state = $job.State
        $results = @($job | Receive-Job -ErrorVariable jobErrors -ErrorAction SilentlyContinue)
        $job | Remove-Job

        # One error for the stop, naming the rows it held back; not one per row, and nothing sent after the refusal.
        $state | Should -Be 'Failed'
        $results | Should -HaveCount 0
        $jobErrors | Should -HaveCount 1
        $jobErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.Unauthorized*'
        $jobErrors[0].ToString() | Should -Match 'nothing further was sent \(1000 row'
        ($jobErrors | Out-String) | Should -Not -Match $secret
        $sent = (Invoke-RestMethod -Uri "$BaseUri/_emulator/counters").total_requests - $before
        $sent | Should -BeGreaterThan 0
        $sent | Should -BeLessOrEqual 4
    }
}

Describe 'Saving outputs' {
    It 'saves a single input to -OutFile' {
        $file = Join-Path $TestDrive 'single.mp4'

        $result = Invoke-WanAnimate -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'One file' -OutFile $file -PollInterval $FastPoll

        $result.OutputFile | Should -Be $file
        $file | Should -Exist
    }

    It 'keeps a complete existing file without -Force and still reports it' {
        $dir = Join-Path $TestDrive 'keep'
        $result = New-WanAnimateJob -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'Saved twice' |
            Wait-WanAnimateJob -PollInterval $FastPoll
        $first = $result | Save-WanAnimateOutput -Directory $dir
        $written = (Get-Item -LiteralPath $first.OutputFile).LastWriteTimeUtc

        $second = Save-WanAnimateOutput -RequestId $result.RequestId -Directory $dir

        $second.OutputFile | Should -Be $first.OutputFile
        (Get-Item -LiteralPath $second.OutputFile).LastWriteTimeUtc | Should -Be $written
    }
}

Describe 'Job outcomes reported as errors' {
    It 'reports a FAILED job as WanAnimate.JobFailed with the server''s reason' {
        $job = New-WanAnimateJob -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'This one [fail]s'

        $results = @($job | Wait-WanAnimateJob -PollInterval $FastPoll -ErrorVariable waitErrors -ErrorAction SilentlyContinue)

        $results | Should -HaveCount 0
        $waitErrors | Should -HaveCount 1
        $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.JobFailed*'
        $waitErrors[0].CategoryInfo.Category | Should -Be 'InvalidResult'
        $waitErrors[0].Exception.Message | Should -Match 'Content blocked'
        $waitErrors[0].TargetObject.RequestId | Should -Be $job.RequestId
        (Get-WanAnimateStatus -RequestId $job.RequestId).Status | Should -Be 'FAILED'
    }

    It 'reports a wait that runs out of time as WanAnimate.WaitTimeout, and the wait can be resumed' {
        $job = New-WanAnimateJob -InputVideo "$BaseUri/samples/a.mp4" -ReferenceImage "$BaseUri/samples/a.png" -Prompt 'Slower than the timeout'

        # The job takes seconds; half a second of patience is certainly too little.
        $results = @($job | Wait-WanAnimateJob -Timeout '00:00:00.500' -PollInterval $FastPoll -ErrorVariable waitErrors -ErrorAction SilentlyContinue)

        $results | Should -HaveCount 0
        $waitErrors | Should -HaveCount 1
        $waitErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.WaitTimeout*'
        $waitErrors[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $waitErrors[0].Exception.Message | Should -Match ([regex]::Escape($job.RequestId))

        $resumed = Wait-WanAnimateJob -RequestId $waitErrors[0].TargetObject.RequestId -PollInterval $FastPoll

        $resumed.Status | Should -Be 'COMPLETED'
    }

    It 'reports an unknown request id as WanAnimate.NotFound' {
        Get-WanAnimateStatus -RequestId 'no-such-request' -ErrorVariable statusErrors -ErrorAction SilentlyContinue

        $statusErrors | Should -HaveCount 1
        $statusErrors[0].FullyQualifiedErrorId | Should -BeLike 'WanAnimate.NotFound*'
        $statusErrors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $statusErrors[0].Exception.Message | Should -Match '1 hour'
    }

    It 'stops at once without an API key' {
        $env:SEGMIND_API_KEY = $null
        try {
            { Get-SegmindCredit -BaseUri $BaseUri -ErrorAction Stop } | Should -Throw -ErrorId 'WanAnimate.NoApiKey,*'
        }
        finally {
            $env:SEGMIND_API_KEY = $ApiKey
        }
    }

    It 'refuses a wrong API key with WanAnimate.Unauthorized, without echoing it' {
        $secret = 'not-the-emulator-key-1234'

        $record = { Get-SegmindCredit -ApiKey $secret -BaseUri $BaseUri -ErrorAction Stop } | Should -Throw -ErrorId 'WanAnimate.Unauthorized,*' -PassThru

        $record.CategoryInfo.Category | Should -Be 'AuthenticationError'
        ($record | Out-String) | Should -Not -Match $secret
    }
}
