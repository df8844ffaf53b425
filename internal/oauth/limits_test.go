package oauth

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/ratelimit"
	"github.com/cozeauth/cozeauth/internal/store"
)

// TestRateLimits fires bursts at /token and /device/code with a fixed clock:
// past the burst a client IP, or a client_id from any IP, gets 429 with
// Retry-After in the WIRE.md §3.5 shape, and gets through again once the
// bucket refills (issue 11.8).
func TestRateLimits(t *testing.T) {
	f := newFixture(t)
	dev, _ := f.app(store.ClientTerminal, "Bot.chat")
	pkce, _ := f.app(store.ClientSinglePageOrNative, "Bot.chat")
	// 1 per second, burst 3, for both endpoints and both keys.
	tok, dev1 := ratelimit.Limit{Rate: 1, Burst: 3}, ratelimit.Limit{Rate: 1.0 / 60, Burst: 2}
	f.s.Limits = NewLimits(tok, tok, dev1, dev1, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.s.Token)
	mux.HandleFunc("POST /account/{account_id}/token", f.s.Token)
	mux.HandleFunc("POST /device/code", f.s.DeviceCode)
	send := func(path, ip string, body map[string]any) (int, string, map[string]any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = ip + ":5555"
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: %q", path, rec.Body)
		}
		if rec.Code == http.StatusTooManyRequests &&
			(out["error"] != out["error_code"] || out["error_message"] == "" || rec.Header().Get("Retry-After") == "") {
			t.Fatalf("429 not in the WIRE.md §3.5 shape with Retry-After: %v %v", rec.Header(), out)
		}
		return rec.Code, rec.Header().Get("Retry-After"), out
	}
	refresh := func(client string) map[string]any {
		return map[string]any{"grant_type": "refresh_token", "client_id": client, "refresh_token": "czr_nope"}
	}
	poll := map[string]any{"grant_type": GrantTypeDeviceCode, "client_id": dev.ClientID, "device_code": "nope"}

	type shot struct {
		advance     time.Duration
		path, ip    string
		body        map[string]any
		status      int
		code, retry string
	}
	for _, tc := range []struct {
		name  string
		shots []shot
	}{
		{"token: per IP, then refill", []shot{
			{0, "/token", "10.0.0.1", refresh(pkce.ClientID), 400, "invalid_grant", ""},
			{0, "/token", "10.0.0.1", refresh("other-1"), 401, "invalid_client", ""},
			{0, "/token", "10.0.0.1", map[string]any{"grant_type": "x"}, 400, "unsupported_grant_type", ""},
			{0, "/token", "10.0.0.1", refresh("other-2"), 429, "temporarily_unavailable", "1"},
			{0, "/token", "10.0.0.2", refresh("other-3"), 401, "invalid_client", ""},
			{time.Second, "/token", "10.0.0.1", refresh("other-4"), 401, "invalid_client", ""},
			{0, "/token", "10.0.0.1", refresh("other-5"), 429, "temporarily_unavailable", "1"},
		}},
		{"token: per client across IPs; a device poll gets slow_down", []shot{
			{time.Hour, "/token", "10.1.0.1", poll, 400, "invalid_grant", ""},
			{0, "/token", "10.1.0.2", poll, 400, "invalid_grant", ""},
			{0, "/token", "10.1.0.3", poll, 400, "invalid_grant", ""},
			{0, "/token", "10.1.0.4", poll, 429, "slow_down", "1"},
			{0, "/token", "10.1.0.4", refresh(pkce.ClientID), 400, "invalid_grant", ""},
			{2 * time.Second, "/token", "10.1.0.5", poll, 400, "invalid_grant", ""},
		}},
		{"device code: per IP and per client, per minute", []shot{
			{time.Hour, "/device/code", "10.3.0.1", map[string]any{"client_id": dev.ClientID}, 200, "", ""},
			{0, "/device/code", "10.3.0.1", map[string]any{"client_id": "nope"}, 401, "invalid_client", ""},
			{0, "/device/code", "10.3.0.1", map[string]any{"client_id": dev.ClientID}, 429, "temporarily_unavailable", "60"},
			{0, "/device/code", "10.3.0.2", map[string]any{"client_id": dev.ClientID}, 200, "", ""},
			{0, "/device/code", "10.3.0.3", map[string]any{"client_id": dev.ClientID}, 429, "temporarily_unavailable", "60"},
			{time.Minute, "/device/code", "10.3.0.3", map[string]any{"client_id": dev.ClientID}, 200, "", ""},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, s := range tc.shots {
				f.now = f.now.Add(s.advance)
				status, retry, out := send(s.path, s.ip, s.body)
				code, _ := out["error"].(string)
				if status != s.status || code != s.code || retry != s.retry {
					t.Fatalf("shot %d %s from %s: %d %q Retry-After %q; want %d %q %q (%v)", i, s.path, s.ip, status, code, retry,
						s.status, s.code, s.retry, out)
				}
			}
		})
	}
}
