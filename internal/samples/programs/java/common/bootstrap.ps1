# Runs this Coze OAuth sample (Java 11 or newer, JDK only): compiles it into .\build, then runs it.
# $env:PORT overrides the port 8080.
$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

$need = "A JDK 11 or newer (java and javac) is needed to run this sample. Install one from https://adoptium.net/ (or 'winget install EclipseAdoptium.Temurin.17.JDK'), then run .\bootstrap.ps1 again."

foreach ($tool in @('java', 'javac')) {
    if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) {
        [Console]::Error.WriteLine("$tool was not found on PATH. $need")
        exit 1
    }
    # "java -version" writes to stderr: merge it (with 'Continue', so Windows PowerShell does not stop on it).
    $ErrorActionPreference = 'Continue'
    $line = & $tool -version 2>&1 | ForEach-Object { "$_" } | Where-Object { $_ -match 'version|javac' } | Select-Object -First 1
    $ErrorActionPreference = 'Stop'
    if ($line -notmatch '(\d+)(\.(\d+))?') {
        [Console]::Error.WriteLine("Cannot tell the version of $tool from '$line'. $need")
        exit 1
    }
    $major = [int]$Matches[1]
    if ($major -eq 1 -and $Matches[3]) { $major = [int]$Matches[3] }   # 1.8.0 -> 8
    if ($major -lt 11) {
        [Console]::Error.WriteLine("Found $tool $major, which is too old. $need")
        exit 1
    }
}

if (Test-Path build) { Remove-Item -Recurse -Force build }
$files = Get-ChildItem -Path . -Filter *.java | ForEach-Object { $_.Name }
& javac --release 11 -encoding UTF-8 -d build @files
if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
& java "-Dfile.encoding=UTF-8" -cp build Sample
exit $LASTEXITCODE
