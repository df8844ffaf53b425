package gotest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// TestRateLimits runs the attack review's issue 11.8 against the binary with
// its default limits: a browser session that guesses user codes is stopped
// after 5 wrong ones, and then the real code is refused for that session
// while another session can still approve it and the device gets its token;
// a burst of device-code requests from one address gets 429 with the OAuth
// error shape and Retry-After.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	dsn := sqliteDB(t)
	a := adm{t: t, db: dsn}
	a.user("alice")
	tv := a.app("device", "TV")
	burst := a.app("device", "Burst")
	srv := startServer(t, "limits", dsn, "--device-poll-interval", "1s")
	c := client.New(srv.URL, client.WithHTTPClient(httpc), client.WithDevicePollInterval(time.Second))
	ctx := ctxT(t)
	d, err := c.DeviceCode(ctx, tv.ClientID, "")
	if err != nil {
		t.Fatalf("device code: %v", err)
	}

	guesser := newBrowser(t, srv.URL)
	p := guesser.login(guesser.get("/device"), "alice", testPassword)
	submit := func(b *browser, p *page, code string) *page {
		t.Helper()
		f := p.formWith(t, "Continue")
		return f.submit(b, p, url.Values{f.field(t, "User code"): {code}}, "Continue")
	}
	for i := range 5 {
		guess := fmt.Sprintf("BCDF-GH%02d", 20+i)
		if guess == d.UserCode {
			guess = "ZZZZ-ZZZZ"
		}
		p = submit(guesser, p, guess)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "unknown, expired or already used") {
			t.Fatalf("wrong guess %d: want 400 with the unknown-code message, got:\n%s", i+1, p)
		}
	}
	p = submit(guesser, p, d.UserCode)
	if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, "Too many wrong codes") || p.header.Get("Retry-After") == "" {
		t.Fatalf("the real code after 5 wrong guesses: want 429 with the message and Retry-After, got %v:\n%s", p.header, p)
	}
	if p.hasButton("Authorize") {
		t.Fatal("the guessing session reached the consent page")
	}
	_, err = c.PollDeviceToken(ctx, tv.ClientID, d.DeviceCode, false)
	wantAuthErr(t, "poll after the refused session", err, client.ErrCodeAuthorizationPending)

	// The user's own session is not stopped, and the SDK flow completes.
	owner := newBrowser(t, srv.URL)
	approveDevice(t, owner, d.VerificationURL, "alice", consent{})
	tok, err := c.PollDeviceToken(ctx, tv.ClientID, d.DeviceCode, true)
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("device token after approval by another session: %+v, %v", tok, err)
	}

	// /device/code: 10 per minute per address (burst 10), then 429.
	var last rawResp
	for i := range 11 {
		last = oauthRaw(t, srv, "/api/permission/oauth2/device/code", "", map[string]any{"client_id": burst.ClientID})
		if i < 9 && last.status != http.StatusOK { // the first device code above counted against this address too
			t.Fatalf("device code %d: %d %s", i+1, last.status, last.body)
		}
	}
	wantOAuthError(t, "the 11th device code in a minute", last, http.StatusTooManyRequests, "temporarily_unavailable")
	if last.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After: %v", last.header)
	}
	_, err = c.DeviceCode(ctx, burst.ClientID, "")
	if ae := wantAuthErr(t, "the Go client over the limit", err, "temporarily_unavailable"); ae != nil && ae.HTTPStatus != http.StatusTooManyRequests {
		t.Errorf("HTTP status %d, want 429", ae.HTTPStatus)
	}
}
