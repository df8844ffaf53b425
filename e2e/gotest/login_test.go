package gotest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var csrfFieldRE = regexp.MustCompile(`name="csrf_token" value="([^"]*)"`)

// signInClient is a browser-like client (cookie jar, no redirects) whose
// connections come from the given loopback address, so one test can sign in
// from many client IPs.
func signInClient(t *testing.T, srv *server, from string) (c *http.Client, csrf string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c = &http.Client{Jar: jar, Timeout: 60 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(srv.URL + "/login")
	if err != nil {
		t.Fatalf("GET /login from %s: %v", from, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfFieldRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("GET /login: no csrf_token field:\n%s", body)
	}
	return c, string(m[1])
}

func postLogin(ctx context.Context, c *http.Client, srv *server, csrf, username, password string) (int, error) {
	form := url.Values{"csrf_token": {csrf}, "username": {username}, "password": {password}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// peakRSS reads a process's high-water resident set size (Linux).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// TestParallelSignInsMemory is the attack review's finding (issue 11.1): 200
// parallel wrong-password sign-ins, from 20 client IPs and for 200 usernames
// so that the per-client and per-username limits let every one through to the
// password check. Each argon2id run holds its memory cost; unbounded, the
// process grew by gigabytes and stopped answering. Bounded, its peak RSS stays
// under 300 MB, every request is answered (401 judged, or 503 "busy, retry"),
// and a real user signs in afterwards.
func TestParallelSignInsMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc and binds 127.0.0.x source addresses")
	}
	db := sqliteDB(t)
	a := adm{t: t, db: db}
	a.run("", "migrate")
	a.user("alice")
	srv := startServer(t, "login-memory", db)

	const ips, perIP = 20, 10
	type attempt struct {
		c    *http.Client
		csrf string
		user string
	}
	var attempts []attempt
	for i := range ips {
		c, csrf := signInClient(t, srv, fmt.Sprintf("127.0.0.%d", 10+i))
		for j := range perIP {
			attempts = append(attempts, attempt{c, csrf, fmt.Sprintf("nobody-%d-%d", i, j)})
		}
	}
	ctx := ctxT(t)
	counts := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, at := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			status, err := postLogin(ctx, at.c, srv, at.csrf, at.user, "wrong password")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Errorf("POST /login as %s: %v", at.user, err)
				return
			}
			counts[status]++
		}()
	}
	close(start)
	wg.Wait()
	t.Logf("statuses of %d parallel sign-ins: %v", len(attempts), counts)
	for status, n := range counts {
		if status != http.StatusUnauthorized && status != http.StatusServiceUnavailable {
			t.Errorf("%d sign-ins answered %d; want only 401 (judged) or 503 (busy)", n, status)
		}
	}
	if counts[http.StatusUnauthorized] == 0 {
		t.Error("no sign-in was judged at all")
	}
	peak := peakRSS(t, srv.cmd.Process.Pid)
	t.Logf("peak RSS of the server: %d MiB", peak>>20)
	if peak > 300<<20 {
		t.Errorf("peak RSS %d MiB after %d parallel sign-ins; want under 300 MiB", peak>>20, len(attempts))
	}
	c, csrf := signInClient(t, srv, "127.0.0.99")
	if status, err := postLogin(ctx, c, srv, csrf, "alice", testPassword); err != nil || status != http.StatusFound {
		t.Errorf("alice's sign-in after the burst: %d, %v; want 302", status, err)
	}
}
