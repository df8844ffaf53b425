// Command benchhttp is the HTTP load benchmark behind scripts/bench-http: it
// seeds a fresh database with N PATs, starts `cozeauth serve` and a bare
// net/http handler answering the same bytes, drives both with wrk in the
// same run, and prints requests per second, latencies and
// ratio=<server/bare>. With --compare-sizes it compares p99 latency across
// store sizes instead. It also counts database writes during the load.
//
// Everything listens on 127.0.0.1, runs under an overall --timeout and
// cleans up (servers, temp files, PostgreSQL databases) on the way out.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cozeauth/cozeauth/internal/store/sqlstore"

	"github.com/cozeauth/cozeauth/scripts/internal/loopback"
	"github.com/cozeauth/cozeauth/scripts/internal/proccpu"
)

type options struct {
	bin          string
	otherBins    [][2]string // name, path: more binaries to compare in the ratio runs
	pgAdmin      string
	pats         int
	compare      bool
	sizes        []int
	rounds       int
	load         loadConfig
	writeCheck   bool
	profileDir   string
	discardLogs  bool
	keep         bool
	endpoint     string
	ratioTarget  float64
	p99Tolerance float64
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare" {
		if err := runBare(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "benchhttp bare:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var sizes string
	var timeout time.Duration
	flag.StringVar(&o.bin, "bin", "bin/cozeauth", "the cozeauth binary to benchmark")
	flag.Func("also-bin", "NAME=PATH: also measure this cozeauth binary (access log on, then off) in the ratio runs, e.g. a build with a proposed change (repeatable)", func(v string) error {
		name, path, ok := strings.Cut(v, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("want NAME=PATH, got %q", v)
		}
		o.otherBins = append(o.otherBins, [2]string{name, path})
		return nil
	})
	flag.StringVar(&o.pgAdmin, "db", os.Getenv("COZEAUTH_BENCH_POSTGRES_URL"),
		"\"\" or \"sqlite\": a SQLite file in a temp dir; postgres://…: a server on which to create (and afterwards drop) a fresh database (default $COZEAUTH_BENCH_POSTGRES_URL)")
	flag.StringVar(&o.endpoint, "endpoint", "users-me", "what the load requests: users-me (GET /v1/users/me) or check (POST /api/cozeauth/v1/authz/check, Bot.chat on a bot in the PAT's workspace)")
	flag.IntVar(&o.pats, "pats", 100_000, "PATs stored in the database")
	flag.BoolVar(&o.compare, "compare-sizes", false, "compare p99 latency across --sizes instead of measuring the ratio")
	flag.StringVar(&sizes, "sizes", "1000,1000000", "store sizes for --compare-sizes")
	flag.IntVar(&o.rounds, "rounds", 0, "measured runs per target, alternating targets (default 1, or 3 with --compare-sizes); medians are reported")
	flag.IntVar(&o.load.threads, "threads", 2, "wrk threads")
	flag.IntVar(&o.load.conns, "conns", 64, "wrk connections")
	flag.DurationVar(&o.load.duration, "duration", 10*time.Second, "each measured wrk run")
	flag.DurationVar(&o.load.warmup, "warmup", 3*time.Second, "wrk warm-up per target before the first measured run")
	flag.BoolVar(&o.writeCheck, "write-check", true, "after the ratio runs, serve a load with --last-used-flush=1h and count database writes")
	flag.StringVar(&o.profileDir, "profile", "", "also run the server in-process under the same load and write CPU and allocation profiles to this directory")
	flag.BoolVar(&o.discardLogs, "discard-server-log", false, "send the server's log to /dev/null instead of a file (default: a file, as with a real deployment)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temp directory (databases, logs)")
	flag.Float64Var(&o.ratioTarget, "ratio-target", 0.9, "ratio the server should reach (reported, not enforced)")
	flag.Float64Var(&o.p99Tolerance, "p99-tolerance", 0.1, "how much higher the largest size's p99 may be than the smallest's (reported, not enforced)")
	flag.DurationVar(&timeout, "timeout", 45*time.Minute, "give up after this long")
	flag.Parse()
	if o.pgAdmin == "sqlite" {
		o.pgAdmin = ""
	}
	if o.pgAdmin != "" {
		if d, _, err := sqlstore.ParseDSN(o.pgAdmin); err != nil || d != sqlstore.Postgres {
			fatal(fmt.Errorf("--db %q: want a postgres:// URL or sqlite", o.pgAdmin))
		}
	}
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("--sizes %q: want positive integers separated by commas", sizes))
		}
		o.sizes = append(o.sizes, n)
	}
	if o.endpoint != "users-me" && o.endpoint != "check" {
		fatal(fmt.Errorf("--endpoint %q: want users-me or check", o.endpoint))
	}
	if o.rounds == 0 {
		o.rounds = 1
		if o.compare {
			o.rounds = 3
		}
	}
	ctx, stop := signalContext()
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench-http:", err)
	os.Exit(1)
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// bench holds what every phase shares.
type bench struct {
	o    options
	dir  string
	self string
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "cozeauth-bench-")
	if err != nil {
		return err
	}
	if o.keep {
		logf("keeping %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if o.pgAdmin == "" {
		// The temp dir must be reachable for the servers we start; make it so
		// even when run as root with a restrictive umask.
		_ = os.Chmod(dir, 0o755)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if o.load.luaPath, err = writeLua(dir); err != nil {
		return err
	}
	b := &bench{o: o, dir: dir, self: self}
	if o.compare {
		return b.compareSizes(ctx)
	}
	return b.ratio(ctx)
}

func (b *bench) backend() string {
	if b.o.pgAdmin != "" {
		return "PostgreSQL"
	}
	return "SQLite"
}

func (b *bench) loadDesc() string {
	return fmt.Sprintf("wrk -t%d -c%d -d%s (warm-up %s), %d round(s)", b.o.load.threads, b.o.load.conns,
		b.o.load.duration, b.o.load.warmup, b.o.rounds)
}

// prepare creates and seeds a database of n PATs and times store lookups.
func (b *bench) prepare(ctx context.Context, n int) (*database, *seeded, error) {
	d, err := createDatabase(ctx, b.o.pgAdmin, b.dir, "n"+strconv.Itoa(n))
	if err != nil {
		return nil, nil, err
	}
	logf("seeding %d PATs into %s (%s)", n, b.backend(), d.label)
	sd, err := seed(ctx, d, n, logf)
	if err != nil {
		return d, nil, fmt.Errorf("seed %d PATs: %w", n, err)
	}
	p50, p99, err := lookupTimes(ctx, d, sd.sample)
	if err != nil {
		return d, nil, err
	}
	sd.lookupP50, sd.lookupP99 = p50, p99
	size := ""
	if d.path != "" {
		size = fmt.Sprintf(", file %.1f MB", float64(fileSize(d.path))/1e6)
	}
	logf("seeded %d PATs in %s%s; store lookup GetCredentialByHash (cold path, %d stored PATs): p50=%s p99=%s",
		n, sd.took.Round(100*time.Millisecond), size, len(sd.sample), ms(p50), ms(p99))
	fmt.Printf("seed %s n=%d took=%s lookup_p50=%s lookup_p99=%s\n", b.backend(), n, sd.took.Round(100*time.Millisecond), ms(p50), ms(p99))
	return d, sd, nil
}

func dropAll(dbs []*database) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, d := range dbs {
		if d != nil {
			if err := d.drop(ctx); err != nil {
				logf("cleanup: %v", err)
			}
		}
	}
}

// startServer runs `cozeauth serve` on d; flush 0 keeps the shipped default.
func (b *bench) startServer(ctx context.Context, d *database, name string, accessLog bool, flush time.Duration) (*child, error) {
	return b.startServerBin(ctx, b.o.bin, d, name, accessLog, flush)
}

func (b *bench) startServerBin(ctx context.Context, bin string, d *database, name string, accessLog bool, flush time.Duration) (*child, error) {
	addr, err := loopback.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--addr", addr, "--db", d.dsn, "--access-log=" + strconv.FormatBool(accessLog)}
	if flush > 0 {
		args = append(args, "--last-used-flush="+flush.String())
	}
	logPath := filepath.Join(b.dir, name+".log")
	if b.o.discardLogs {
		logPath = ""
	}
	return startChild(ctx, name, addr, logPath, "/readyz", bin, args...)
}

// target is one HTTP endpoint under load.
type target struct {
	name    string
	url     string
	token   string
	db      *database // watched for writes; nil for the bare handler
	seeded  *seeded
	pid     int // process serving it, for CPU time per request; 0 if unknown
	results []wrkResult
}

// measure runs one wrk load against t, counting database writes meanwhile.
func (b *bench) measure(ctx context.Context, t *target, d time.Duration, quiet bool) (wrkResult, error) {
	var w *writeWatch
	if t.db != nil {
		var err error
		if w, err = watchWrites(ctx, t.db); err != nil {
			return wrkResult{}, err
		}
	}
	cpu0 := proccpu.Of(t.pid)
	r, err := runWrk(ctx, b.o.load, t.url, t.token, d)
	if cpu1 := proccpu.Of(t.pid); cpu0 >= 0 && cpu1 >= 0 && r.requests > 0 {
		r.cpuPerReq = (cpu1 - cpu0) / time.Duration(r.requests)
	}
	if w != nil {
		_, desc, werr := w.stop(ctx)
		if err == nil && werr != nil {
			err = werr
		}
		r.writesSeen = desc
	}
	if err != nil {
		return r, fmt.Errorf("%s: %w", t.name, err)
	}
	if r.non2xx > 0 || r.errors > 0 || r.requests == 0 {
		return r, fmt.Errorf("%s: %d requests, %d errors, %d non-2xx answers: the load is not measuring successful requests", t.name, r.requests, r.errors, r.non2xx)
	}
	if !quiet {
		line := fmt.Sprintf("  %-28s %s", t.name, r)
		if r.writesSeen != "" {
			line += "  [db: " + r.writesSeen + "]"
		}
		logf("%s", line)
	}
	return r, nil
}

// warmAndMeasure warms every target, then runs rounds of measurements,
// alternating targets so drift on a shared machine spreads over all of them.
func (b *bench) warmAndMeasure(ctx context.Context, targets []*target) error {
	for _, t := range targets {
		if b.o.load.warmup > 0 {
			if _, err := b.measure(ctx, t, b.o.load.warmup, true); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	for round := 1; round <= b.o.rounds; round++ {
		logf("round %d/%d (load average %s)", round, b.o.rounds, loadAvg())
		for _, t := range targets {
			r, err := b.measure(ctx, t, b.o.load.duration, false)
			if err != nil {
				return err
			}
			t.results = append(t.results, r)
		}
	}
	return nil
}

// median returns the run with the median value of key (the lower middle
// one for an even count).
func median(rs []wrkResult, key func(wrkResult) float64) wrkResult {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b wrkResult) int {
		switch ka, kb := key(a), key(b); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return s[(len(s)-1)/2]
}

func byRPS(r wrkResult) float64 { return r.rps }

// pairedRatio returns the median over rounds of a[i].rps / b[i].rps, and
// every round's ratio.
func pairedRatio(a, b []wrkResult) (float64, string) {
	rs := make([]float64, len(a))
	all := make([]string, len(a))
	for i := range a {
		rs[i] = a[i].rps / b[i].rps
		all[i] = fmt.Sprintf("%.3f", rs[i])
	}
	slices.Sort(rs)
	return rs[(len(rs)-1)/2], strings.Join(all, " ")
}
func byP99(r wrkResult) float64 { return float64(r.p99) }

func medianCPU(rs []wrkResult) time.Duration {
	return median(rs, func(r wrkResult) float64 { return float64(r.cpuPerReq) }).cpuPerReq
}

func p99List(rs []wrkResult) string {
	all := make([]string, len(rs))
	for i, r := range rs {
		all[i] = ms(r.p99)
	}
	return strings.Join(all, " ")
}

// captureAnswer makes the load's request once with the PAT and checks it is
// a success; the bare handler replays this answer.
func captureAnswer(ctx context.Context, lc loadConfig, srv *child, token string) (*response, error) {
	resp, err := send(ctx, lc.method(), srv.url(lc.path), token, lc.body)
	if err != nil {
		return nil, err
	}
	if resp.status != 200 || !strings.Contains(string(resp.body), `"code":0`) {
		return nil, fmt.Errorf("%s %s with the seeded PAT: %d %s", lc.method(), lc.path, resp.status, resp.body)
	}
	return resp, nil
}

// setEndpoint fills the load's request from --endpoint and the seeded data.
func (b *bench) setEndpoint(sd *seeded) {
	b.o.load.path, b.o.load.body = "/v1/users/me", ""
	if b.o.endpoint == "check" {
		b.o.load.path = "/api/cozeauth/v1/authz/check"
		b.o.load.body = `{"permission":"Bot.chat","resource":{"type":"bot","id":"` + sd.bot + `"}}`
	}
}

// ratio is the default mode: server vs bare handler on one store size.
func (b *bench) ratio(ctx context.Context) error {
	var dbs []*database
	defer func() { dropAll(dbs) }()
	d, sd, err := b.prepare(ctx, b.o.pats)
	dbs = append(dbs, d)
	if err != nil {
		return err
	}
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()
	srvOn, err := b.startServer(ctx, d, "server-access-log-on", true, 0)
	if err != nil {
		return err
	}
	children = append(children, srvOn)
	b.setEndpoint(sd)
	resp, err := captureAnswer(ctx, b.o.load, srvOn, sd.token)
	if err != nil {
		return err
	}
	logf("server answer: %d %s", resp.status, strings.TrimSpace(string(resp.body)))
	bare, err := startBare(ctx, b.self, b.dir, resp)
	if err != nil {
		return err
	}
	children = append(children, bare)
	srvOff, err := b.startServer(ctx, d, "server-access-log-off", false, 0)
	if err != nil {
		return err
	}
	children = append(children, srvOff)

	tBare := &target{name: "bare net/http", url: bare.url(b.o.load.path), token: sd.token, pid: bare.pid()}
	tOn := &target{name: "cozeauth access-log=true", url: srvOn.url(b.o.load.path), token: sd.token, db: d, pid: srvOn.pid()}
	tOff := &target{name: "cozeauth access-log=false", url: srvOff.url(b.o.load.path), token: sd.token, db: d, pid: srvOff.pid()}
	targets := []*target{tBare, tOn, tOff}
	servers := []*child{srvOn, srvOff}
	for _, ob := range b.o.otherBins {
		for _, accessLog := range []bool{true, false} {
			name := fmt.Sprintf("%s access-log=%t", ob[0], accessLog)
			srv, err := b.startServerBin(ctx, ob[1], d, "server-"+strings.ReplaceAll(name, " ", "-"), accessLog, 0)
			if err != nil {
				return err
			}
			children = append(children, srv)
			servers = append(servers, srv)
			targets = append(targets, &target{name: name, url: srv.url(b.o.load.path), token: sd.token, db: d, pid: srv.pid()})
		}
	}
	logf("load: %s", b.loadDesc())
	if err := b.warmAndMeasure(ctx, targets); err != nil {
		return err
	}
	for _, c := range servers {
		if err := c.stop(); err != nil {
			logf("%s: %v", c.name, err)
		}
	}

	var writes string
	if b.o.writeCheck {
		if writes, err = b.writeCheck(ctx, d, sd.token); err != nil {
			return err
		}
	}
	var profiles []string
	if b.o.profileDir != "" {
		if profiles, err = b.profile(ctx, d, sd.token); err != nil {
			return err
		}
	}

	mb, mOn, mOff := median(tBare.results, byRPS), median(tOn.results, byRPS), median(tOff.results, byRPS)
	rOn, rsOn := pairedRatio(tOn.results, tBare.results)
	rOff, rsOff := pairedRatio(tOff.results, tBare.results)
	fmt.Printf("\n== %s, %d stored PATs, %s %s with a valid PAT; %s\n", b.backend(), sd.n, b.o.load.method(), b.o.load.path, b.loadDesc())
	fmt.Printf("   (runs with the median req/s; ratio = median over rounds of server req/s / bare req/s in the same round)\n")
	fmt.Printf("   (1-minute load average at the end: %s, on %d CPUs)\n", loadAvg(), runtime.NumCPU())
	fmt.Printf("%-28s %s\n", tBare.name, mb)
	fmt.Printf("%-28s %s  ratio=%.3f  (rounds: %s)\n", tOn.name, mOn, rOn, rsOn)
	fmt.Printf("%-28s %s  ratio=%.3f  (rounds: %s)\n", tOff.name, mOff, rOff, rsOff)
	for _, t := range targets[3:] {
		r, rs := pairedRatio(t.results, tBare.results)
		fmt.Printf("%-28s %s  ratio=%.3f  (rounds: %s)\n", t.name, median(t.results, byRPS), r, rs)
	}
	fmt.Printf("store lookup GetCredentialByHash (the cold path's query) with %d PATs: p50=%s p99=%s\n", sd.n, ms(sd.lookupP50), ms(sd.lookupP99))
	if cb := medianCPU(tBare.results); cb > 0 {
		// CPU time per request is far less sensitive to other load on the
		// machine than req/s; bare/server of it is the ratio a machine with
		// nothing else running would show if the server were CPU-bound.
		fmt.Printf("cpu per request (server process, median): bare %s, access-log=true %s, access-log=false %s; cpu_ratio=%.3f cpu_ratio_access_log_off=%.3f\n",
			us(cb), us(medianCPU(tOn.results)), us(medianCPU(tOff.results)),
			float64(cb)/float64(medianCPU(tOn.results)), float64(cb)/float64(medianCPU(tOff.results)))
	}
	fmt.Printf("ratio=%.3f\n", rOn)
	fmt.Printf("ratio_access_log_off=%.3f\n", rOff)
	fmt.Printf("target ratio >= %.2f: access log on %s, off %s\n", b.o.ratioTarget, pass(rOn >= b.o.ratioTarget), pass(rOff >= b.o.ratioTarget))
	if writes != "" {
		fmt.Println(writes)
	}
	for _, p := range profiles {
		fmt.Println(p)
	}
	return nil
}

// loadAvg is the 1-minute load average: other work sharing the cores
// makes a run noisy.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func pass(ok bool) string {
	if ok {
		return "MET"
	}
	return "NOT MET"
}

// writeCheck serves a load with last-used flushes pushed out to an hour and
// counts the database writes made while serving, then the ones made by the
// graceful shutdown (the final last-used flush).
func (b *bench) writeCheck(ctx context.Context, d *database, token string) (string, error) {
	logf("write check: server with --last-used-flush=1h")
	srv, err := b.startServer(ctx, d, "server-write-check", true, time.Hour)
	if err != nil {
		return "", err
	}
	defer srv.stop()
	w, err := watchWrites(ctx, d)
	if err != nil {
		return "", err
	}
	t := &target{name: "cozeauth write check", url: srv.url(b.o.load.path), token: token, pid: srv.pid()}
	start := time.Now()
	r, err := b.measure(ctx, t, b.o.load.duration, false)
	if err != nil {
		w.stop(ctx)
		return "", err
	}
	served := time.Since(start)
	n, desc, err := w.stop(ctx)
	if err != nil {
		return "", err
	}
	w2, err := watchWrites(ctx, d)
	if err != nil {
		return "", err
	}
	if err := srv.stop(); err != nil {
		logf("%s: %v", srv.name, err)
	}
	time.Sleep(50 * time.Millisecond) // let the poller see the last commit
	_, desc2, err := w2.stop(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("db_writes_during_load=%d  (%d requests served over %s from a cold cache, --last-used-flush=1h: %s; at shutdown: %s)",
		n, r.requests, served.Round(100*time.Millisecond), desc, desc2), nil
}

// compareSizes measures p99 latency with each store size, servers up side by
// side and runs alternating.
func (b *bench) compareSizes(ctx context.Context) error {
	if b.o.endpoint != "users-me" {
		return fmt.Errorf("--compare-sizes measures GET /v1/users/me only")
	}
	b.setEndpoint(nil)
	var dbs []*database
	defer func() { dropAll(dbs) }()
	var children []*child
	defer func() {
		for _, c := range children {
			c.stop()
		}
	}()
	var targets []*target
	var first *seeded
	var firstSrv *child
	for _, n := range b.o.sizes {
		d, sd, err := b.prepare(ctx, n)
		dbs = append(dbs, d)
		if err != nil {
			return err
		}
		srv, err := b.startServer(ctx, d, "server-n"+strconv.Itoa(n), true, 0)
		if err != nil {
			return err
		}
		children = append(children, srv)
		if first == nil {
			first, firstSrv = sd, srv
		}
		if _, err := captureAnswer(ctx, b.o.load, srv, sd.token); err != nil {
			return err
		}
		targets = append(targets, &target{name: fmt.Sprintf("cozeauth %d PATs", n), url: srv.url(b.o.load.path), token: sd.token, db: d, seeded: sd, pid: srv.pid()})
	}
	resp, err := captureAnswer(ctx, b.o.load, firstSrv, first.token)
	if err != nil {
		return err
	}
	bare, err := startBare(ctx, b.self, b.dir, resp)
	if err != nil {
		return err
	}
	children = append(children, bare)
	tBare := &target{name: "bare net/http", url: bare.url(b.o.load.path), token: first.token, pid: bare.pid()}
	logf("load: %s", b.loadDesc())
	if err := b.warmAndMeasure(ctx, append([]*target{tBare}, targets...)); err != nil {
		return err
	}

	mb := median(tBare.results, byP99)
	fmt.Printf("\n== %s, p99 of GET /v1/users/me by store size (access log on); %s\n", b.backend(), b.loadDesc())
	fmt.Printf("   (runs with the median p99; ratio = median over rounds of server req/s / bare req/s)\n")
	fmt.Printf("   (1-minute load average at the end: %s, on %d CPUs)\n", loadAvg(), runtime.NumCPU())
	fmt.Printf("%-28s %s  (p99 of each round: %s)\n", tBare.name, mb, p99List(tBare.results))
	var p99s []time.Duration
	for _, t := range targets {
		m := median(t.results, byP99)
		p99s = append(p99s, m.p99)
		r, _ := pairedRatio(t.results, tBare.results)
		fmt.Printf("%-28s %s  ratio=%.3f  (p99 of each round: %s)\n", t.name, m, r, p99List(t.results))
	}
	for _, t := range targets {
		fmt.Printf("store lookup GetCredentialByHash (the cold path's query) with %d PATs: p50=%s p99=%s\n",
			t.seeded.n, ms(t.seeded.lookupP50), ms(t.seeded.lookupP99))
	}
	for i, n := range b.o.sizes {
		fmt.Printf("p99_%d=%s\n", n, ms(p99s[i]))
	}
	small, large := targets[0], targets[len(targets)-1]
	lo, hi := p99s[0], p99s[len(p99s)-1]
	rel := float64(hi) / float64(lo)
	paired := make([]string, len(small.results))
	for i := range small.results {
		paired[i] = fmt.Sprintf("%.2f", float64(large.results[i].p99)/float64(small.results[i].p99))
	}
	fmt.Printf("p99_ratio=%.3f  (median p99 with %d PATs / with %d PATs; per round: %s)\n",
		rel, b.o.sizes[len(b.o.sizes)-1], b.o.sizes[0], strings.Join(paired, " "))
	fmt.Printf("target p99 at most %.0f%% higher: %s\n", b.o.p99Tolerance*100, pass(rel <= 1+b.o.p99Tolerance))
	return nil
}
