#Requires -Version 7.2
#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }

# Get-Help must work offline and describe every cmdlet completely. Needs only the built module, no emulator.

BeforeDiscovery {
    $manifest = Join-Path $PSScriptRoot '../../out/Segmind.WanAnimate/Segmind.WanAnimate.psd1'
    Import-Module $manifest -Force
    $script:CmdletCases = @(Get-Command -Module Segmind.WanAnimate -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } })
}

BeforeAll {
    $script:ModuleDirectory = (Resolve-Path (Join-Path $PSScriptRoot '../../out/Segmind.WanAnimate')).Path
    Import-Module (Join-Path $ModuleDirectory 'Segmind.WanAnimate.psd1') -Force
    $script:CommonParameters = [System.Management.Automation.Cmdlet]::CommonParameters
}

AfterAll {
    Remove-Module Segmind.WanAnimate -ErrorAction SilentlyContinue
}

Describe 'The module' {
    It 'exports the eight cmdlets' {
        (Get-Command -Module Segmind.WanAnimate -CommandType Cmdlet).Name | Sort-Object | Should -Be @(
            'Export-WanAnimateGallery', 'Get-SegmindCredit', 'Get-WanAnimateJob', 'Get-WanAnimateStatus', 'Invoke-WanAnimate',
            'New-WanAnimateJob', 'Save-WanAnimateOutput', 'Wait-WanAnimateJob')
    }

    It 'names a license file that exists in the repository' {
        $manifest = Import-PowerShellDataFile (Join-Path $PSScriptRoot '../../Segmind.WanAnimate.psd1')
        $licenseUri = [uri] $manifest.PrivateData.PSData.LicenseUri
        $relative = ($licenseUri.AbsolutePath -split '/blob/[^/]+/', 2)[1]

        $relative | Should -Not -BeNullOrEmpty
        Join-Path $PSScriptRoot "../../$relative" | Should -Exist
        $manifest.Copyright | Should -Match 'MIT License'
        Get-Content -Raw (Join-Path $PSScriptRoot "../../$relative") | Should -Match '^MIT License'
    }

    It 'opens the README with the demo and test commands, and CI runs the test command' {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
        $ci = Get-Content -Raw (Join-Path $PSScriptRoot '../../.ci/run')
        $firstBlock = [regex]::Match($readme, '```bash\r?\n(.*?)```', 'Singleline').Groups[1].Value

        $firstBlock | Should -Match ([regex]::Escape('dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo'))
        $firstBlock | Should -Match ([regex]::Escape('dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test'))
        $ci | Should -Match ([regex]::Escape('dotnet tool restore && dotnet pwsh -NoProfile -NonInteractive ./build.ps1 -Task Test'))
    }

    It 'shows switches as switches in the syntax' {
        $syntax = Get-Help Invoke-WanAnimate | Select-Object -ExpandProperty syntax | Out-String -Width 500

        $syntax | Should -Match '\[-ResubmitUnknown\]'
        $syntax | Should -Not -Match 'SwitchParameter'
    }

    It 'ships the about topic' {
        $about = Get-Help about_Segmind.WanAnimate | Out-String
        $about | Should -Match 'SEGMIND_API_KEY'
        $about | Should -Match 'WanAnimate\.SubmitOutcomeUnknown'
    }
}

Describe 'Get-Help <Name>' -ForEach $CmdletCases {
    BeforeAll {
        $help = Get-Help -Name $Name -Full
        $command = Get-Command -Name $Name
        $parameterNames = @($command.Parameters.Keys | Where-Object { $_ -notin $CommonParameters })
        # Hidden parameters (DontShow: the pipeline's InputObject) are not part of the documented surface.
        $shownNames = @($command.Parameters.Values | Where-Object {
                $_.Name -notin $CommonParameters -and
                -not ($_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.DontShow })
            } | ForEach-Object Name)
    }

    It 'has a written synopsis and description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "$Name*"
        ($help.description.Text -join '') | Should -Not -BeNullOrEmpty
    }

    It 'has at least two examples, each with code and remarks' {
        @($help.examples.example).Count | Should -BeGreaterOrEqual 2
        foreach ($example in $help.examples.example) {
            $example.code | Should -Not -BeNullOrEmpty
            ($example.remarks.Text -join '') | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes every parameter the cmdlet has' {
        foreach ($parameterName in $shownNames) {
            $documented = $help.parameters.parameter | Where-Object name -eq $parameterName
            $documented | Should -Not -BeNullOrEmpty -Because "-$parameterName must be documented"
            ($documented.description.Text -join '') | Should -Not -BeNullOrEmpty -Because "-$parameterName needs a description"
        }
    }

    It 'documents no parameter the cmdlet lacks' {
        foreach ($documented in @($help.parameters.parameter)) {
            $documented.name | Should -BeIn $parameterNames
        }
    }

    It 'has one syntax block per parameter set' {
        @($help.syntax.syntaxItem).Count | Should -Be @($command.ParameterSets).Count
    }
}
