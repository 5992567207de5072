#Requires -Version 7.2
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

# Export-WanAnimateGallery of results and ledger entries that went through a real Export-Csv and Import-Csv in
# another culture, as a user re-opens a batch the next day. No server is needed.

BeforeAll {
    $script:SavedCulture = [System.Globalization.CultureInfo]::CurrentCulture
    $script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:ManifestPath = Join-Path $RepoRoot 'out/Segmind.WanAnimate/Segmind.WanAnimate.psd1'
    if (-not (Test-Path -LiteralPath $ManifestPath)) { throw "Build the solution first: $ManifestPath is missing." }
    Import-Module $ManifestPath -Force

    function Use-Culture {
        param([Parameter(Mandatory)] [string] $Name, [Parameter(Mandatory)] [scriptblock] $Script)
        $before = [System.Globalization.CultureInfo]::CurrentCulture
        [System.Globalization.CultureInfo]::CurrentCulture = [System.Globalization.CultureInfo]::GetCultureInfo($Name)
        try { & $Script } finally { [System.Globalization.CultureInfo]::CurrentCulture = $before }
    }

    function Get-GalleryText {
        param([Parameter(Mandatory)] [string] $Path)
        $html = Get-Content -LiteralPath $Path -Raw
        [pscustomobject] @{
            Costs  = @([regex]::Matches($html, 'data-cost="([^"]*)"') | ForEach-Object { $_.Groups[1].Value })
            Cards  = [regex]::Matches($html, '<li class="card ').Count
            Header = ([regex]::Match($html, '(?s)<header.*?</header>').Value -replace '<[^>]+>', ' ' -replace '\s+', ' ')
        }
    }
}

AfterAll {
    [System.Globalization.CultureInfo]::CurrentCulture = $SavedCulture
    Remove-Module Segmind.WanAnimate -ErrorAction SilentlyContinue
}

Describe 'A gallery of re-imported CSV files' {
    It 'keeps the cost of results exported in <Writer> and read in <Reader>' -ForEach @(
        @{ Writer = 'de-DE'; Reader = 'de-DE' }
        @{ Writer = 'de-DE'; Reader = 'en-US' }
        @{ Writer = 'ja-JP'; Reader = 'de-DE' }
    ) {
        $csv = Join-Path $TestDrive "results-$Writer-$Reader.csv"
        $page = Join-Path $TestDrive "gallery-$Writer-$Reader.html"
        $metrics = [Segmind.WanAnimate.MetricTable]::new(@{ cost = 0.25; inference_time = 12.5 })
        $results = @(
            [Segmind.WanAnimate.WanAnimateResult] @{ RequestId = 'r-1'; Status = 'COMPLETED'; RowId = 'a'; Row = 1; Prompt = 'p'; Cost = 0.25; InferenceTime = 12.5; Metrics = $metrics }
            [Segmind.WanAnimate.WanAnimateResult] @{ RequestId = 'r-2'; Status = 'COMPLETED'; RowId = 'b'; Row = 2; Prompt = 'q'; Cost = 0.25; InferenceTime = 12.5; Metrics = $metrics }
        )
        Use-Culture $Writer { $results | Export-Csv -Path $csv -NoTypeInformation }

        Use-Culture $Reader { Import-Csv -Path $csv | Export-WanAnimateGallery -Path $page } | Out-Null

        $gallery = Get-GalleryText -Path $page
        $gallery.Costs | Should -Be @('0.25', '0.25')
        $gallery.Header | Should -Match '0\.5 credits'
    }

    It 'reads the times of ledger entries exported in de-DE in de-DE as 1 December' {
        $csv = Join-Path $TestDrive 'ledger.csv'
        $page = Join-Path $TestDrive 'ledger.html'
        $entry = [pscustomobject] @{
            RequestId = 'r-9'; Status = 'saved'; RowId = 'z'; Row = 1; Prompt = 'p'
            SubmittedAt = [DateTimeOffset]::new(2026, 12, 1, 10, 0, 0, [TimeSpan]::Zero)
        }
        Use-Culture 'de-DE' {
            $entry | Export-Csv -Path $csv -NoTypeInformation
            Import-Csv -Path $csv | Export-WanAnimateGallery -Path $page | Out-Null
        }

        (Get-GalleryText -Path $page).Header | Should -Match '2026-12-01'
    }

    It 'exports the times of Get-WanAnimateJob entries as ISO 8601 in <Writer>, read back in <Reader>' -ForEach @(
        @{ Writer = 'de-DE'; Reader = 'en-US' }
        @{ Writer = 'ja-JP'; Reader = 'de-DE' }
    ) {
        $ledger = Join-Path $TestDrive "ledger-$Writer.jsonl"
        $csv = Join-Path $TestDrive "ledger-$Writer.csv"
        $at = [DateTimeOffset]::UtcNow.AddMinutes(-30).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", [cultureinfo]::InvariantCulture)
        Set-Content -LiteralPath $ledger -Encoding utf8NoBOM -Value ('{"v":1,"kind":"accepted","at":"' + $at + '","request_id":"r-iso","row":"hero","row_number":1,"status_url":"https://api.segmind.com/v2/requests/r-iso/status","response_url":"https://api.segmind.com/v2/requests/r-iso","submitted_at":"' + $at + '"}')
        $before = $env:SEGMIND_LEDGER_PATH
        try {
            $env:SEGMIND_LEDGER_PATH = $ledger
            Use-Culture $Writer { Get-WanAnimateJob | Export-Csv -Path $csv -NoTypeInformation }
        }
        finally {
            $env:SEGMIND_LEDGER_PATH = $before
        }

        $row = Use-Culture $Reader { Import-Csv -Path $csv }
        $row.SubmittedAt | Should -Match '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$'
        $row.RecordedAt | Should -Be $row.SubmittedAt
        ([DateTimeOffset] $row.SubmittedAt).UtcDateTime.ToString('yyyy-MM-dd HH:mm', [cultureinfo]::InvariantCulture) |
            Should -Be ([DateTimeOffset]::Parse($at, [cultureinfo]::InvariantCulture).UtcDateTime.ToString('yyyy-MM-dd HH:mm', [cultureinfo]::InvariantCulture))
    }

    It 'shows a row submitted in two runs as two jobs' {
        $page = Join-Path $TestDrive 'two-runs.html'
        @(
            [pscustomobject] @{ RequestId = 'run-1'; Status = 'saved'; RowId = 'hero-01'; Row = 1; Prompt = 'fog'; Cost = 0.25 }
            [pscustomobject] @{ RequestId = 'run-2'; Status = 'saved'; RowId = 'hero-01'; Row = 1; Prompt = 'beach'; Cost = 0.25 }
        ) | Export-WanAnimateGallery -Path $page | Out-Null

        $gallery = Get-GalleryText -Path $page
        $gallery.Cards | Should -Be 2
        $gallery.Header | Should -Match '0\.5 credits'
    }
}
