#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what is missing (apt, npm, Go modules), builds,
# vets, runs the Go tests (SQLite and a throwaway PostgreSQL), the in-process packages again under -race, and
# the Node end-to-end tests against the built binary. Exits non-zero on any failure. Under CI=true nothing may be skipped for a
# missing dependency.
#
# Environment:
#   CI=true                       missing dependencies are errors, never skips
#   COZEAUTH_TEST_POSTGRES_URL    use this PostgreSQL instead of starting a throwaway one
#   COZEAUTH_TEST_SKIP_RACE=1     skip the -race pass (local quick runs only; ignored under CI)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
ci=false
case "${CI:-}" in true | 1) ci=true ;; esac

section() { printf '\n========== %s ==========\n' "$*"; }
die() {
	printf 'test.sh: %s\n' "$*" >&2
	exit 1
}

timings=()
t_start=$SECONDS
step() { # step NAME COMMAND... : run a command under a section header and record its time
	local name=$1 t0=$SECONDS
	shift
	section "$name"
	"$@"
	timings+=("$(printf '%5ss  %s' "$((SECONDS - t0))" "$name")")
}

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
	export PATH="/usr/local/go/bin:$PATH"
fi

install_system_deps() {
	local pkgs=()
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || pkgs+=(postgresql)
	[ -x /usr/bin/chromium ] || pkgs+=(chromium fonts-liberation) # for the browser tests
	[ -d /usr/share/fonts/truetype/wqy ] || pkgs+=(fonts-wqy-zenhei)      # Chinese glyphs in page screenshots
	command -v gcc >/dev/null 2>&1 || pkgs+=(gcc libc6-dev)        # go test -race needs cgo
	# The sample bundles' matrix (e2e/node/samples.test.mjs) runs every language: Python 3.7+, Node 18+, Go, Java 11+.
	command -v python3 >/dev/null 2>&1 || pkgs+=(python3)
	{ command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1; } || pkgs+=(JDK)
	command -v go >/dev/null 2>&1 || die "go not found (expected in PATH or /usr/local/go/bin)"
	command -v node >/dev/null 2>&1 || die "node not found"
	command -v npm >/dev/null 2>&1 || die "npm not found"
	if [ "${#pkgs[@]}" -eq 0 ]; then
		echo "system packages: all present"
	elif [ "$(id -u)" -eq 0 ]; then
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		local i
		for i in "${!pkgs[@]}"; do # JDK: openjdk-17 where the release has it, else the release's default JDK
			if [ "${pkgs[$i]}" = JDK ]; then
				if apt-cache show openjdk-17-jdk-headless >/dev/null 2>&1; then
					pkgs[i]=openjdk-17-jdk-headless
				else
					pkgs[i]=default-jdk-headless
				fi
			fi
		done
		echo "apt-get install ${pkgs[*]}"
		mkdir -p /usr/share/man/man1 # slim images lack it, and the JDK's postinst needs it
		apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
	elif $ci; then
		die "missing system packages (${pkgs[*]}) and not root"
	else
		echo "WARNING: missing system packages (${pkgs[*]}) and not root; dependent tests may be skipped" >&2
	fi
	go version
	node --version
	python3 --version || true
	javac -version || true
}

install_node_deps() {
	cd "$root/e2e/node"
	if [ -f package-lock.json ]; then
		npm ci --no-audit --no-fund
	else
		npm install --no-audit --no-fund
	fi
	cd "$root"
}

build() {
	mkdir -p bin
	go build -o bin/cozeauth ./cmd/cozeauth
	echo "built bin/cozeauth"
}
# The Go end-to-end tests (e2e/gotest) and the Node ones use the binary built above.
export COZEAUTH_BIN="$root/bin/cozeauth"

vet() {
	go vet ./...
	local unformatted
	unformatted=$(find . -name '*.go' -not -path './.git/*' -not -path '*/node_modules/*' -print0 |
		xargs -0r gofmt -l)
	[ -z "$unformatted" ] || die "gofmt needed on: $unformatted"
}

# Pinned; `go run pkg@version` builds it outside our module, so go.mod and go.sum are untouched.
STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
staticcheck() {
	go run "$STATICCHECK" ./...
}

go_tests() {
	go test -count=1 -timeout 15m ./...
}

# The race detector only sees goroutines of the test process: the end-to-end
# tests drive the server as a separate process, so racing them would only run
# everything twice. The race pass covers the packages whose own tests run
# concurrent code (stores, caches, grants, migration races, limiters, gates).
# internal/web is the exception: its tests sign in hundreds of times and
# argon2id under the race detector is ~8× slower (two minutes here), so only
# its concurrent parts (the sign-in limiter and password gate) run raced.
go_race_tests() {
	local pkgs
	pkgs=$(go list ./internal/... ./client/... | grep -v '/internal/web$')
	# shellcheck disable=SC2086 # one package per word
	go test -count=1 -race -timeout 15m $pkgs
	go test -count=1 -race -timeout 15m -run 'TestSignInLimiter|TestLoginParallelAttempts|TestLoginNoLockout|TestLimiter' ./internal/web
}

# Each fuzz target for a bounded number of executions (Go fuzzes one target per invocation).
# Seeds live in the tests and under testdata/fuzz/<target>/, where a crasher
# found here is written: keep it there as a regression seed (plain `go test`
# runs every seed). COZEAUTH_FUZZTIME changes the budget per target (10000x, or a duration). Minimizing
# new inputs is bounded by a count, or one large input can eat a target's time.
FUZZ_TARGETS=(
	"./internal/oauth FuzzTokenRequest FuzzJWTBearer FuzzJWTScope FuzzPublicKeyPEM FuzzRedirectURI"
	"./internal/web FuzzSafeNext FuzzAcceptLanguage FuzzSessionCookie"
	"./internal/server FuzzAuthzCheck"
	"./internal/openapi FuzzDecodeCheck"
	"./internal/jsonstr FuzzAppend"
)
go_fuzz() {
	local line pkg targets target t0 log
	log=$(mktemp)
	for line in "${FUZZ_TARGETS[@]}"; do
		read -r pkg targets <<<"$line"
		for target in $targets; do
			t0=$SECONDS
			# An execution count, not a duration: at the end of a timed run Go can
			# report "context deadline exceeded" as a failure while a worker is
			# busy, with no failing input (seen here); a count ends cleanly.
			go test -run '^$' -fuzz "^${target}\$" -fuzztime "${COZEAUTH_FUZZTIME:-10000x}" -fuzzminimizetime 200x "$pkg" >"$log" 2>&1 ||
				{ cat "$log"; rm -f "$log"; die "fuzz target $target ($pkg) failed; its input is under $pkg/testdata/fuzz/$target/"; }
			printf '%4ss  %s %s (%s)\n' "$((SECONDS - t0))" "$pkg" "$target" "$(grep -o 'execs: [0-9]*' "$log" | tail -1)"
		done
	done
	rm -f "$log"
}

node_tests() {
	cd "$root/e2e/node"
	node --test --test-reporter=spec
	cd "$root"
}

step "system dependencies" install_system_deps
step "node dependencies (e2e/node)" install_node_deps
step "go build" build
step "go vet + gofmt" vet
step "staticcheck" staticcheck

section "PostgreSQL for tests"
# shellcheck source=scripts/pg-test.sh
. "$root/scripts/pg-test.sh"
if pg_test_start; then
	trap pg_test_stop EXIT
	trap "exit 130" INT
	trap "exit 143" TERM
elif $ci; then
	die "could not provide PostgreSQL (CI must run the PostgreSQL suite)"
else
	echo "WARNING: no PostgreSQL; the PostgreSQL suite will be skipped" >&2
fi

step "go test ./... (SQLite + PostgreSQL)" go_tests
if $ci || [ "${COZEAUTH_TEST_SKIP_RACE:-}" != 1 ]; then
	step "go test -race ./... (SQLite + PostgreSQL)" go_race_tests
fi
step "go fuzz targets (${COZEAUTH_FUZZTIME:-10000x} each)" go_fuzz
step "node e2e tests (e2e/node)" node_tests

section "summary"
printf '%s\n' "${timings[@]}"
printf '%5ss  total\n' "$((SECONDS - t_start))"
echo "ALL TESTS PASSED"
