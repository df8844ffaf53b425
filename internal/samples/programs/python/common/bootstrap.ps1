# Runs this Coze OAuth sample on Windows: checks for Python 3.7 or newer, then serves http://127.0.0.1:$env:PORT
# (default 8080).
$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

$python = $null
foreach ($candidate in @('python', 'python3', 'py')) {
    if (Get-Command $candidate -ErrorAction SilentlyContinue) {
        # The Microsoft Store's "python" placeholder fails here (exit 9009) and is skipped.
        try {
            & $candidate -c 'import sys; sys.exit(0 if sys.version_info >= (3, 7) else 1)' 2>$null | Out-Null
            if ($LASTEXITCODE -eq 0) { $python = $candidate; break }
        } catch { }
    }
}

if (-not $python) {
    Write-Host 'error: this sample needs Python 3.7 or newer, and none was found (python, python3 or py).' -ForegroundColor Red
    Write-Host 'Install it from https://www.python.org/downloads/ (tick "Add python.exe to PATH"), or: winget install Python.Python.3.12'
    exit 1
}

if (-not (Test-Path -Path 'coze_oauth_config.json')) {
    Write-Host 'error: coze_oauth_config.json is missing; it comes in the zip downloaded from the console.' -ForegroundColor Red
    exit 1
}

$env:PYTHONUNBUFFERED = '1'
& $python main.py
exit $LASTEXITCODE
