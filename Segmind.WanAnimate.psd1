@{
    RootModule           = 'Segmind.WanAnimate.dll'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = @('Desktop', 'Core')
    GUID                 = '6f0b8a52-3c1e-4f5e-9d2a-7b4c1e9a5d30'
    Author               = 'Segmind.PowerShell contributors'
    CompanyName          = 'Segmind.PowerShell'
    Copyright            = '(c) Segmind.PowerShell contributors. MIT License.'
    Description          = 'Drive Segmind''s Wan Animate serverless API from PowerShell: submit, poll, wait for and save character animation and replacement jobs, one at a time or in CSV batches.'
    PowerShellVersion    = '5.1'
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('Segmind.WanAnimate.format.ps1xml')
    CmdletsToExport      = @(
        'New-WanAnimateJob'
        'Get-WanAnimateStatus'
        'Wait-WanAnimateJob'
        'Invoke-WanAnimate'
        'Save-WanAnimateOutput'
        'Get-SegmindCredit'
        'Export-WanAnimateGallery'
        'Get-WanAnimateJob'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Segmind', 'WanAnimate', 'AI', 'Video', 'Animation', 'API', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ProjectUri   = 'https://github.com/segmind-powershell/Segmind.PowerShell'
            LicenseUri   = 'https://github.com/segmind-powershell/Segmind.PowerShell/blob/main/LICENSE'
            ReleaseNotes = 'First release: Wan Animate jobs, CSV batches, a local emulator.'
        }
    }
}
