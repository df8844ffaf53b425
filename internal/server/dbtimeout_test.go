package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// holdPool holds one pooled connection of e's store (a transaction whose
// update callback waits) until the returned release is called.
func (e *env) holdPool(t *testing.T) (release func()) {
	t.Helper()
	cs, err := e.s.ListCredentials(context.Background(), store.CredentialFilter{})
	if err != nil || len(cs) == 0 {
		t.Fatalf("ListCredentials: %d, %v", len(cs), err)
	}
	held, stop, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		_, err := e.s.UpdateCredential(context.Background(), cs[0].ID, func(c store.Credential) (store.Credential, error) {
			close(held)
			<-stop
			return c, nil
		})
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("UpdateCredential to hold the pool: %v", err)
	}
	released := false
	release = func() {
		if !released {
			released = true
			close(stop)
			if err := <-done; err != nil {
				t.Errorf("UpdateCredential holding the pool: %v", err)
			}
		}
	}
	t.Cleanup(release)
	return release
}

// TestDBUnavailable: with every pooled connection held, a request that needs
// the database gets a clear 503 with its log ID after --db-timeout — the
// Coze envelope on OpenAPI routes, the OAuth error shape on OAuth routes —
// and is counted; it never hangs. Once a connection is free, the same request
// succeeds.
func TestDBUnavailable(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) { c.DBTimeout = 50 * time.Millisecond }, sqlstore.MaxConns(1))
	release := e.holdPool(t)

	// The PAT was never used, so its verification reads the store.
	r := e.do(t, "GET", "/v1/users/me", "Bearer "+e.full, "")
	if r.status != http.StatusServiceUnavailable || r.code != 5030 || r.msg == "" || r.logid == "" ||
		r.logid != r.header.Get("X-Tt-Logid") || r.header.Get("Retry-After") == "" {
		t.Errorf("OpenAPI route with the pool busy: HTTP %d code %d msg %q logid %q (header %q) Retry-After %q; want 503, 5030, a message, the log ID",
			r.status, r.code, r.msg, r.logid, r.header.Get("X-Tt-Logid"), r.header.Get("Retry-After"))
	}

	req := httptest.NewRequest("POST", "/api/permission/oauth2/token",
		strings.NewReader(`{"grant_type":"authorization_code","client_id":"123","code":"czc_x"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("token endpoint body %q: %v", rec.Body.String(), err)
	}
	if rec.Code != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || body["error_code"] != "temporarily_unavailable" ||
		body["error_message"] == "" || body["code"] != nil || rec.Header().Get("X-Tt-Logid") == "" {
		t.Errorf("OAuth route with the pool busy: HTTP %d %v (logid %q); want 503 temporarily_unavailable in the WIRE.md §3.5 shape",
			rec.Code, body, rec.Header().Get("X-Tt-Logid"))
	}

	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`cozeauth_db_timeouts_total{route="GET /v1/users/me"} 1`,
		`cozeauth_db_timeouts_total{route="POST /api/permission/oauth2/token"} 1`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	release()
	// A free pool must answer however slow the machine is: a generous bound now.
	e.srv.cfg.DBTimeout = time.Minute
	if r := e.do(t, "GET", "/v1/users/me", "Bearer "+e.full, ""); r.status != http.StatusOK {
		t.Errorf("with the pool free again: HTTP %d code %d %s", r.status, r.code, r.msg)
	}
}

// TestRevisionPollWithPoolBusy: the revision poll reads on a connection of
// its own, so with every pooled connection busy it does not fail, and the
// caches it would drop on failure keep answering requests from memory.
func TestRevisionPollWithPoolBusy(t *testing.T) {
	e := newEnvWith(t, func(c *config.Config) {
		// Polls often enough to run several times below, with a timeout (4
		// intervals, 1 s) that no healthy poll on its own connection comes
		// near, even under -race on a loaded machine; a 5 ms interval (20 ms
		// timeout) made the test fail there.
		c.RevisionPoll = 250 * time.Millisecond
		c.DBTimeout = 50 * time.Millisecond
	}, sqlstore.MaxConns(1))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.srv.Run(ctx, mustListen(t))
	// The first poll drops the caches (whatever was cached before it); warm
	// them after it.
	for deadline := time.Now().Add(30 * time.Second); e.srv.gen.Current() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no revision poll within 30 s")
		}
	}
	if r := e.do(t, "GET", "/v1/users/me", "Bearer "+e.full, ""); r.status != http.StatusOK {
		t.Fatalf("warming the cache: HTTP %d %s", r.status, r.msg)
	}
	e.holdPool(t)
	// A poll on the busy pool would fail after its timeout (1 s) and drop
	// the cache, and the next request would need the store and get 503; the
	// requests go on for 3 s, so several polls happen while the pool is held.
	start := time.Now()
	for i := 0; time.Since(start) < 3*time.Second; i++ {
		if r := e.do(t, "GET", "/v1/users/me", "Bearer "+e.full, ""); r.status != http.StatusOK {
			t.Fatalf("request %d with the pool busy and a warm cache: HTTP %d code %d %s (did a failed revision poll drop the cache?)",
				i, r.status, r.code, r.msg)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
