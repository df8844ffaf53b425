package web_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/web"
)

// TestDeviceGuessLimit: a session that submits too many wrong user codes is
// stopped with a 429 page, and then even the real code is refused for that
// session until the window passes (RFC 8628 §5.1, issue 11.8); other
// sessions are not affected until the client IP's own, larger, limit.
func TestDeviceGuessLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, func(h *web.Handler) {
		h.Now = clock
		h.DeviceGuessLimit = 3
		h.DeviceGuessWindow = 10 * time.Minute
	})
	code := e.startDevice(t)
	submit := func(b *browser, userCode string) page {
		t.Helper()
		p := b.get("/device")
		wantStatus(t, "GET /device", p, http.StatusOK)
		return b.post("/device", url.Values{"csrf_token": {p.hidden().Get("csrf_token")}, "user_code": {userCode}})
	}
	guesser := e.browser()
	guesser.signIn()
	for i, g := range []string{"BCDF-GHJK", "bcdfghjl", "ZZZZ-ZZZZ"} {
		wantStatus(t, "wrong guess "+string(rune('1'+i)), submit(guesser, g), http.StatusBadRequest)
	}
	stopped := submit(guesser, code)
	wantStatus(t, "the real code after 3 wrong ones", stopped, http.StatusTooManyRequests)
	wantBody(t, "stopped", stopped, "Too many wrong codes", `id="user_code-error"`)
	if ra := stopped.header.Get("Retry-After"); ra != "600" {
		t.Errorf("Retry-After = %q, want 600", ra)
	}

	// Another session from the same address is not stopped (yet).
	other := e.browser()
	other.signIn()
	p := submit(other, code)
	wantStatus(t, "the real code from another session", p, http.StatusOK)
	wantBody(t, "consent", p, "TV App")

	// After the window the guessing session may try again.
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	wantStatus(t, "the real code after the window", submit(guesser, code), http.StatusOK)

	// Fresh sessions do not reset the client IP's limit (5 × 3 per window).
	for range 5 {
		b := e.browser()
		b.signIn()
		for range 3 {
			wantStatus(t, "wrong guess from a fresh session", submit(b, "ZZZZ-ZZZZ"), http.StatusBadRequest)
		}
	}
	wantStatus(t, "a clean session at an address with 15 wrong guesses", submit(other, code), http.StatusTooManyRequests)
}
