# Runs this Coze OAuth sample (Go >= 1.18, standard library only). $env:PORT overrides the port 8080.
$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

$need = "Go 1.18 or newer is needed to run this sample. Install it from https://go.dev/dl/ (or 'winget install GoLang.Go'), then run .\bootstrap.ps1 again."
if (-not (Get-Command go -ErrorAction SilentlyContinue)) {
    [Console]::Error.WriteLine("Go was not found on PATH. $need")
    exit 1
}
$version = & go env GOVERSION
if (-not $version) { $version = ((& go version) -split ' ')[2] }
if ($version -notmatch '^go(\d+)\.(\d+)') {
    [Console]::Error.WriteLine("Cannot tell the version of Go from '$version'. $need")
    exit 1
}
$major = [int]$Matches[1]; $minor = [int]$Matches[2]
if ($major -lt 1 -or ($major -eq 1 -and $minor -lt 18)) {
    [Console]::Error.WriteLine("Found $version, which is too old. $need")
    exit 1
}

# No go.mod: the files are built together as one program, named on the command line (their '//go:build ignore'
# line only keeps them out of other builds), into .\build; then the program runs in the foreground.
$env:GO111MODULE = 'on'; $env:GOFLAGS = ''; $env:GOTOOLCHAIN = 'local'
if (Test-Path build) { Remove-Item -Recurse -Force build }
$files = Get-ChildItem -Path . -Filter *.go | ForEach-Object { $_.Name }
& go build -o build\coze-oauth-sample.exe @files
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
& .\build\coze-oauth-sample.exe
exit $LASTEXITCODE
