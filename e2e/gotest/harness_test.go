package gotest

// The harness: build the binary, run admin commands, start and stop servers,
// create per-test databases, poll with deadlines.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create test databases

	"github.com/cozeauth/cozeauth/client"
)

const (
	readyTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second // a graceful stop must end well within this
	cliTimeout   = 30 * time.Second
	// revocationBound is how soon every server must see a revocation.
	revocationBound = time.Second
	testPassword    = "correct horse battery staple"
)

var (
	binPath string
	isCI    = os.Getenv("CI") == "true" || os.Getenv("CI") == "1"
)

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	if p := os.Getenv("COZEAUTH_BIN"); p != "" {
		abs, err := filepath.Abs(p)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: COZEAUTH_BIN=%s: %v\n", p, err)
			return 1
		}
		binPath = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "cozeauth-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binPath = filepath.Join(dir, "cozeauth")
	// `go test` puts its own GOROOT/bin first in PATH, so this is the same toolchain.
	build := exec.Command("go", "build", "-o", binPath, "github.com/cozeauth/cozeauth/cmd/cozeauth")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building cozeauth:", err)
		return 1
	}
	return m.Run()
}

// childEnv is the environment of every cozeauth process: ours without
// COZEAUTH_* settings, which the binary would read as flag values.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COZEAUTH_") {
			env = append(env, kv)
		}
	}
	return env
}

// ---------------------------------------------------------------- admin CLI

type cliResult struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("cozeauth %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runCLI runs the binary to completion.
func runCLI(t testing.TB, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = childEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{args: args, stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("cozeauth %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// adm runs `cozeauth admin --db DSN --create … --json` on one database (the
// tests build their world on a new file; TestCLIMissingDatabase checks the
// refusal without --create).
type adm struct {
	t  testing.TB
	db string
}

func (a adm) run(stdin string, args ...string) cliResult {
	a.t.Helper()
	full := append([]string{"admin", "--db", a.db, "--create"}, args...)
	return runCLI(a.t, stdin, append(full, "--json")...)
}

// json runs a command that must succeed and decodes the one JSON object it
// prints into out (nil: only check it is one object).
func (a adm) json(out any, args ...string) {
	a.t.Helper()
	a.jsonIn("", out, args...)
}

func (a adm) jsonIn(stdin string, out any, args ...string) {
	a.t.Helper()
	r := a.run(stdin, args...)
	if r.code != 0 {
		a.t.Fatalf("admin command failed:\n%s", r)
	}
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil {
		a.t.Fatalf("admin stdout is not a JSON object (%v):\n%s", err, r)
	}
	if _, err := dec.Token(); err != io.EOF {
		a.t.Fatalf("admin stdout has more than one JSON object:\n%s", r)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r.stdout), out); err != nil {
			a.t.Fatalf("decoding admin output: %v\n%s", err, r)
		}
	}
}

// changed runs a mutating command, which prints the object it changed: a
// non-empty JSON object.
func (a adm) changed(args ...string) {
	a.t.Helper()
	var m map[string]any
	a.json(&m, args...)
	if len(m) == 0 {
		a.t.Errorf("admin %s printed {}, want the changed object", strings.Join(args, " "))
	}
}

// str runs a command and returns one string field of its output.
func (a adm) str(key string, args ...string) string {
	a.t.Helper()
	var m map[string]any
	a.json(&m, args...)
	s, _ := m[key].(string)
	if s == "" {
		a.t.Fatalf("admin %s: output has no string %q: %v", strings.Join(args, " "), key, m)
	}
	return s
}

// fail runs a command that must fail: non-zero exit, nothing on stdout, and
// one non-empty line on stderr, which it returns.
func (a adm) fail(stdin string, args ...string) string {
	a.t.Helper()
	r := a.run(stdin, args...)
	line := strings.TrimRight(r.stderr, "\n")
	switch {
	case r.code == 0:
		a.t.Errorf("admin command succeeded, want an error:\n%s", r)
	case strings.TrimSpace(r.stdout) != "":
		a.t.Errorf("failed admin command printed on stdout:\n%s", r)
	case line == "" || strings.Contains(line, "\n"):
		a.t.Errorf("failed admin command must print exactly one line on stderr:\n%s", r)
	}
	return line
}

func (a adm) user(name string) string {
	a.t.Helper()
	var out struct {
		UserID string `json:"user_id"`
	}
	a.jsonIn(testPassword+"\n", &out, "user", "create", "--username", name, "--password-stdin", "--nickname", strings.ToUpper(name[:1])+name[1:])
	if out.UserID == "" {
		a.t.Fatalf("user create %s: no user_id", name)
	}
	return out.UserID
}

// token is a created PAT or SAT.
type token struct {
	ID       string `json:"id"`
	Token    string `json:"token"`
	ExpireAt int64  `json:"expire_at"`
}

// createToken runs `pat create` or `sat create` and checks the output shape.
func (a adm) createToken(kind string, args ...string) token {
	a.t.Helper()
	var tk token
	a.json(&tk, append([]string{kind, "create"}, args...)...)
	if tk.ID == "" || !strings.HasPrefix(tk.Token, kind+"_") || tk.ExpireAt == 0 {
		a.t.Fatalf("%s create %v: bad output %+v", kind, args, tk)
	}
	return tk
}

// listing is one item of `pat list` / `sat list`.
type listing struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Permissions   []string `json:"permissions"`
	WorkspaceMode string   `json:"workspace_option"`
	WorkspaceIDs  []string `json:"workspace_ids"`
	CreatedAt     int64    `json:"created_at"`
	LastUsedAt    int64    `json:"last_used_at"`
	ExpireAt      int64    `json:"expire_at"`
}

func (a adm) pats(user string) []listing {
	a.t.Helper()
	var out struct {
		Items *[]listing `json:"personal_access_tokens"`
	}
	a.json(&out, "pat", "list", "--user", user)
	if out.Items == nil {
		a.t.Fatalf("pat list --user %s: no personal_access_tokens array", user)
	}
	return *out.Items
}

func find(ls []listing, id string) (listing, bool) {
	for _, l := range ls {
		if l.ID == id {
			return l, true
		}
	}
	return listing{}, false
}

// ---------------------------------------------------------------- databases

// backend makes a fresh, empty database for one test and returns its DSN.
type backend struct {
	name  string
	newDB func(t *testing.T) string
}

var backends = []backend{{"sqlite", sqliteDB}, {"postgres", postgresDB}}

func sqliteDB(t *testing.T) string { return filepath.Join(t.TempDir(), "cozeauth.db") }

// postgresDB creates a database on COZEAUTH_TEST_POSTGRES_URL's server and
// drops it when the test ends (after its servers, which were started later and
// so are stopped first).
func postgresDB(t *testing.T) string {
	t.Helper()
	base := os.Getenv("COZEAUTH_TEST_POSTGRES_URL")
	if base == "" {
		if isCI {
			t.Fatal("COZEAUTH_TEST_POSTGRES_URL is not set; CI must run the PostgreSQL end-to-end tests")
		}
		t.Skip("COZEAUTH_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("COZEAUTH_TEST_POSTGRES_URL: %v", err)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	name := "cozeauth_e2e_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
		db.Close()
	})
	u.Path = "/" + name
	return u.String()
}

// ---------------------------------------------------------------- servers

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// server is a running `cozeauth serve` process.
type server struct {
	t      *testing.T
	name   string
	URL    string
	C      *client.Client
	cmd    *exec.Cmd
	stdout syncBuffer
	stderr syncBuffer
	exited chan struct{}
	err    error // cmd.Wait's result, once exited is closed
	mu     sync.Mutex
	done   bool // stop was called
}

// httpc bounds every test request; the SDKs' own timeout is 5 s (WIRE.md §2).
var httpc = &http.Client{Timeout: 5 * time.Second}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer starts `cozeauth serve --addr 127.0.0.1:<free port> --db DSN
// [extra…]` and returns once /readyz answers 200. The server is stopped
// gracefully (and its exit checked) when the test ends, unless stop was
// called.
func startServer(t *testing.T, name, dsn string, extra ...string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		s := launch(t, name, dsn, extra)
		err := s.waitReady()
		if err == nil {
			return s
		}
		s.kill()
		if attempt < 3 && strings.Contains(s.stderr.String(), "address already in use") {
			continue // lost the race for the port
		}
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", name, err, s.stdout.String(), tail(s.stderr.String()))
	}
}

func launch(t *testing.T, name, dsn string, extra []string) *server {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := &server{t: t, name: name, URL: "http://" + addr, exited: make(chan struct{})}
	s.C = client.New(s.URL, client.WithHTTPClient(httpc))
	args := append([]string{"serve", "--addr", addr, "--db", dsn}, extra...)
	s.cmd = exec.Command(binPath, args...)
	s.cmd.Env = childEnv()
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting cozeauth %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s stderr (tail):\n%s", s.name, tail(s.stderr.String()))
		}
	})
	return s
}

func (s *server) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	problem := "no answer"
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return fmt.Errorf("exited (%v) before /readyz answered 200", s.err)
		default:
		}
		resp, err := httpc.Get(s.URL + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			problem = resp.Status
		} else {
			problem = err.Error()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("/readyz not 200 within %v: %s", readyTimeout, problem)
}

func (s *server) kill() {
	s.mu.Lock()
	s.done = true
	s.mu.Unlock()
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// stop sends SIGTERM and checks the server exits 0 within stopTimeout; it
// returns how long that took.
func (s *server) stop() time.Duration {
	s.t.Helper()
	s.mu.Lock()
	if s.done {
		s.mu.Unlock()
		return 0
	}
	s.done = true
	s.mu.Unlock()
	start := time.Now()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Errorf("%s: SIGTERM: %v", s.name, err)
	}
	select {
	case <-s.exited:
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.exited
		s.t.Errorf("%s did not exit within %v of SIGTERM (killed)", s.name, stopTimeout)
		return stopTimeout
	}
	d := time.Since(start)
	if s.err != nil {
		s.t.Errorf("%s exited with %v after SIGTERM, want exit status 0; stderr:\n%s", s.name, s.err, tail(s.stderr.String()))
	} else {
		s.t.Logf("%s: graceful stop (SIGTERM → exit 0) in %v", s.name, d.Round(time.Millisecond))
	}
	return d
}

func tail(s string) string {
	const n = 4000
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ---------------------------------------------------------------- HTTP

// rawResp is a response read without the client package, to check the wire.
type rawResp struct {
	status int
	header http.Header
	body   []byte
	env    struct {
		Code   *int            `json:"code"`
		Msg    string          `json:"msg"`
		Data   json.RawMessage `json:"data"`
		Detail struct {
			LogID string `json:"logid"`
		} `json:"detail"`
	}
	jsonErr error
}

// raw sends a request with exactly the given Authorization header ("" for none).
func raw(t *testing.T, method, u, authorization, body string) rawResp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	r := rawResp{status: resp.StatusCode, header: resp.Header}
	r.body, err = io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, u, err)
	}
	r.jsonErr = json.Unmarshal(r.body, &r.env)
	return r
}

// codeOf is the Coze code of a call's error: 0 for success, the APIError's
// code, or -1 for anything else (a transport error, a response without code).
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Code != 0 {
		return ae.Code
	}
	return -1
}

// eventually polls cond every 10 ms until it holds or limit passes, and
// returns how long it took and whether it held.
func eventually(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := time.Now()
	for {
		if cond() {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
