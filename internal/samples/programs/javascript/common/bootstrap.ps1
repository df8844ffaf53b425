# Runs this Coze OAuth sample on Windows: checks for Node.js 18 or newer, then serves http://127.0.0.1:$env:PORT
# (default 8080).
$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

if (-not (Get-Command node -ErrorAction SilentlyContinue)) {
    Write-Host 'error: this sample needs Node.js 18 or newer, and node is not installed.' -ForegroundColor Red
    Write-Host 'Install it from https://nodejs.org/ (or: winget install OpenJS.NodeJS.LTS), then open a new terminal.'
    exit 1
}
$version = (& node -p 'process.versions.node').Trim()
$major = 0
[void][int]::TryParse(($version -split '\.')[0], [ref]$major)
if ($major -lt 18) {
    Write-Host "error: this sample needs Node.js 18 or newer; found Node.js $version." -ForegroundColor Red
    Write-Host 'Install a newer one from https://nodejs.org/ (or: winget install OpenJS.NodeJS.LTS).'
    exit 1
}

if (-not (Test-Path -Path 'coze_oauth_config.json')) {
    Write-Host 'error: coze_oauth_config.json is missing; it comes in the zip downloaded from the console.' -ForegroundColor Red
    exit 1
}

& node main.mjs
exit $LASTEXITCODE
