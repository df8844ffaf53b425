// Command benchsoak runs a mixed load against the real binary for a long time
// and reports the server's resident memory every minute (issue 13.6): token
// verification (GET /v1/users/me with a PAT), requests with unknown tokens,
// JWT-bearer grants and console sign-ins, all at once. It samples the RSS
// every second and at the end compares the first minute's median with the
// largest median of a later minute; a server that keeps something per
// request (a cache without a bound, a leak) grows past it.
//
// The load starts on a database a prefill has brought to 100k tokens, the
// size the other benchmarks use. On an empty one the RSS rises for the first
// two to three minutes while SQLite's page caches fill to their bounds (the
// writer's 8 MiB, 2 MiB per reading connection) as the database grows, and
// the comparison would measure that filling rather than a leak. The load's
// access tokens live 2 minutes (-ttl), so from the third minute on the
// server's garbage collection deletes each minute about as many as were
// issued: the steady state of a long-running server, whose database has
// stopped growing (with 15-minute tokens that starts only in minute 16).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cozeauth/cozeauth/client"
	"github.com/cozeauth/cozeauth/scripts/internal/loopback"
)

const password = "soak-password-1"

func main() {
	bin := flag.String("bin", "bin/cozeauth", "cozeauth binary")
	dur := flag.Duration("duration", 10*time.Minute, "how long the load runs")
	verifiers := flag.Int("verify", 16, "concurrent clients verifying a valid PAT")
	unknown := flag.Int("unknown", 4, "concurrent clients sending unknown tokens")
	granters := flag.Int("grants", 4, "concurrent clients getting JWT-bearer tokens")
	signers := flag.Int("signins", 1, "concurrent clients signing in to the console")
	prefill := flag.Int("prefill", 100_000, "tokens issued (JWT-bearer grants) before the load starts, so that it meets a database of the size the other benchmarks use")
	ttl := flag.Duration("ttl", 2*time.Minute, "lifetime of the load's access tokens (the prefill's keep the default 15 minutes): past it the server's garbage collection deletes them each minute, so the database stops growing and that deletion is part of the load")
	tolerance := flag.Float64("tolerance", 0.10, "allowed growth of RSS over its value after the first minute")
	flag.Parse()
	if err := run(*bin, *dur, *prefill, *verifiers, *unknown, *granters, *signers, *ttl, *tolerance); err != nil {
		fmt.Fprintln(os.Stderr, "benchsoak:", err)
		os.Exit(1)
	}
}

// admin runs `cozeauth admin --db db … --json` and decodes its object.
func admin(bin, db, stdin string, out any, args ...string) error {
	cmd := exec.Command(bin, append(append([]string{"admin", "--db", db, "--create"}, args...), "--json")...)
	cmd.Stdin = strings.NewReader(stdin)
	b, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("admin %s: %s", strings.Join(args, " "), ee.Stderr)
		}
		return err
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

func rssMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmRSS")
}

// goMemory scrapes the server's Go memory figures (MiB) from /metrics: the
// heap in use, the heap idle but still held from the OS, and the next GC
// goal, so that RSS growth can be told apart from heap growth.
func goMemory(hc *http.Client, base string) (inuse, held, goal float64, err error) {
	resp, err := hc.Get(base + "/metrics")
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, 0, err
	}
	v := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], "go_memstats_") {
			v[f[0]], _ = strconv.ParseFloat(f[1], 64)
		}
	}
	const mib = 1 << 20
	return v["go_memstats_heap_inuse_bytes"] / mib,
		(v["go_memstats_heap_idle_bytes"] - v["go_memstats_heap_released_bytes"]) / mib,
		v["go_memstats_next_gc_bytes"] / mib, nil
}

// minuteRSS summarises a minute's RSS samples (MiB). The median is the
// minute's level: a single sample lands anywhere in a cycle of the garbage
// collector, and a sign-in's 19 MiB argon2id buffer alone moves it by a
// tenth.
type minuteRSS struct{ median, min, max float64 }

func summarise(samples []float64) minuteRSS {
	s := slices.Sorted(slices.Values(samples))
	return minuteRSS{median: s[len(s)/2], min: s[0], max: s[len(s)-1]}
}

// fill issues n tokens through grant from 16 clients at once.
func fill(n int, grant func(context.Context) error) error {
	var left atomic.Int64
	left.Store(int64(n))
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			for left.Add(-1) >= 0 {
				if err := grant(context.Background()); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range 16 {
		if err := <-errs; err != nil && first == nil {
			first = err
			left.Store(0)
		}
	}
	return first
}

func run(bin string, dur time.Duration, prefill, verifiers, unknown, granters, signers int, ttl time.Duration, tolerance float64) error {
	dir, err := os.MkdirTemp("", "benchsoak")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "soak.db")
	if err := admin(bin, db, password+"\n", nil, "user", "create", "--username", "soak", "--password-stdin"); err != nil {
		return err
	}
	var pat struct {
		Token string `json:"token"`
	}
	if err := admin(bin, db, "", &pat, "pat", "create", "--user", "soak", "--name", "soak", "--days", "30", "--permission", "Workspace.list"); err != nil {
		return err
	}
	var app struct {
		AppID    string `json:"app_id"`
		ClientID string `json:"client_id"`
	}
	if err := admin(bin, db, "", &app, "app", "create", "--owner", "soak", "--type", "jwt", "--name", "soak", "--permission", "Workspace.list"); err != nil {
		return err
	}
	var key struct {
		ID         string `json:"public_key_id"`
		PrivateKey string `json:"private_key"`
	}
	if err := admin(bin, db, "", &key, "app", "gen-key", "--app", app.AppID); err != nil {
		return err
	}
	if err := admin(bin, db, "", nil, "app", "authorize", "--app", app.AppID, "--user", "soak"); err != nil {
		return err
	}

	addr, err := loopback.FreeAddr()
	if err != nil {
		return err
	}
	base := "http://" + addr
	srv := exec.Command(bin, "serve", "--addr", addr, "--db", db, "--log-level", "warn",
		"--token-rate-limit", "0", "--token-client-rate-limit", "0")
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(syscall.SIGTERM); _ = srv.Wait() }()
	if err := loopback.WaitReady(base+"/readyz", 10*time.Second); err != nil {
		return err
	}

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	cc := client.New(base, client.WithHTTPClient(hc))
	jwtGrant := func(ctx context.Context, ttl time.Duration) error {
		_, err := cc.JWTToken(ctx, client.JWTRequest{ClientID: app.ClientID, KeyID: key.ID, PrivateKeyPEM: key.PrivateKey, TTL: ttl})
		return err
	}
	if prefill > 0 {
		began := time.Now()
		if err := fill(prefill, func(ctx context.Context) error { return jwtGrant(ctx, 0) }); err != nil {
			return fmt.Errorf("prefill: %w", err)
		}
		fmt.Printf("prefill: %d tokens issued in %v\n", prefill, time.Since(began).Round(time.Second))
	}

	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var counts [4]atomic.Int64 // verify, unknown, grants, sign-ins
	var failures atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		if ctx.Err() == nil {
			failures.Add(1)
			firstErr.CompareAndSwap(nil, err.Error())
		}
	}
	get := func(token string, want int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/users/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("users/me: %d, want %d", resp.StatusCode, want)
		}
		return nil
	}
	var wg sync.WaitGroup
	worker := func(n int, fn func() error, c *atomic.Int64) {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if err := fn(); err != nil {
						fail(err)
						continue
					}
					c.Add(1)
				}
			}()
		}
	}
	worker(verifiers, func() error { return get(pat.Token, 200) }, &counts[0])
	worker(unknown, func() error {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return get("pat_"+hex.EncodeToString(b), 401)
	}, &counts[1])
	worker(granters, func() error { return jwtGrant(ctx, ttl) }, &counts[2])
	csrfRE := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	worker(signers, func() error {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Timeout: 10 * time.Second, Jar: jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := c.Get(base + "/login")
		if err != nil {
			return err
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := csrfRE.FindSubmatch(page)
		if m == nil {
			return errors.New("no csrf_token on /login")
		}
		form := url.Values{"csrf_token": {string(m[1])}, "username": {"soak"}, "password": {password}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", base)
		resp, err = c.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusTooManyRequests {
			return fmt.Errorf("sign-in: %d", resp.StatusCode)
		}
		return nil
	}, &counts[3])

	fmt.Printf("mixed load for %v: %d verifying, %d unknown-token, %d JWT-grant (tokens live %v), %d sign-in clients; RSS sampled every second\n",
		dur, verifiers, unknown, granters, ttl, signers)
	var minutes []minuteRSS
	var cur []float64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	start := time.Now()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		rss, err := rssMiB(srv.Process.Pid)
		if err != nil {
			return err
		}
		cur = append(cur, rss)
		if time.Since(start) < time.Duration(len(minutes)+1)*time.Minute && ctx.Err() == nil {
			continue
		}
		if ctx.Err() != nil && len(cur) < 30 {
			break // a last fraction of a minute is too short to summarise
		}
		m := summarise(cur)
		cur = nil
		minutes = append(minutes, m)
		inuse, held, goal, err := goMemory(hc, base)
		if err != nil {
			return err
		}
		fmt.Printf("minute %2d: RSS median %6.1f MiB (%.1f–%.1f); now: Go heap in use %.1f, idle held %.1f, GC goal %.1f; verified %d, unknown %d, grants %d, sign-ins %d, failures %d\n",
			len(minutes), m.median, m.min, m.max, inuse, held, goal,
			counts[0].Load(), counts[1].Load(), counts[2].Load(), counts[3].Load(), failures.Load())
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first failure: %s\n", e)
	}
	if len(minutes) < 2 {
		fmt.Println("run for at least two minutes to compare RSS")
		return nil
	}
	first, peak, peakMax := minutes[0].median, 0.0, 0.0
	for _, m := range minutes[1:] {
		peak, peakMax = max(peak, m.median), max(peakMax, m.max)
	}
	growth := peak/first - 1
	verdict := "FLAT"
	if growth > tolerance {
		verdict = "GROWING"
	}
	fmt.Printf("rss_first_minute=%.1fMiB rss_peak_minute_after=%.1fMiB growth=%+.1f%% (tolerance %.0f%%, per-minute medians): %s; highest single sample after minute 1: %.1fMiB (%+.1f%%)\n",
		first, peak, growth*100, tolerance*100, verdict, peakMax, (peakMax/first-1)*100)
	return nil
}
