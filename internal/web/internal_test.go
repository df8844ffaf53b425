package web

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

var asciiPunctRE = regexp.MustCompile(`\p{Han}[:,;?!]|[:,;?!]\p{Han}|\p{Han}\(|\)\p{Han}`)

func TestCatalogComplete(t *testing.T) {
	for key, m := range messages {
		if strings.TrimSpace(m[0]) == "" || strings.TrimSpace(m[1]) == "" {
			t.Errorf("message %q lacks a language: %q", key, m)
		}
		if strings.Count(m[0], "%") != strings.Count(m[1], "%") {
			t.Errorf("message %q: the languages take different arguments: %q", key, m)
		}
		// Chinese typography (issue 12.9): no space before 的, full-width
		// colons and commas next to Chinese text.
		if strings.Contains(m[1], " 的") {
			t.Errorf("message %q: a space before 的: %q", key, m[1])
		}
		if asciiPunctRE.MatchString(m[1]) {
			t.Errorf("message %q: ASCII punctuation next to Chinese: %q", key, m[1])
		}
	}
	// Keys built in Go code rather than written in templates.
	var keys []string
	for _, typ := range []store.ClientType{store.ClientWebBackend, store.ClientSinglePageOrNative, store.ClientTerminal, store.ClientService} {
		keys = append(keys, "client."+string(typ), "client."+string(typ)+".help")
	}
	keys = append(keys, "login.failed", "login.missing", "login.rate_limited", "device.unknown", "device.missing",
		"consent.err.account", "consent.err.workspaces", "error.bad_request", "error.csrf", "error.csrf.title",
		"error.internal", "error.title", "consent.title", "login.title", "device.title",
		"device.approved.title", "device.denied.title", "consent.account.personal",
		"nav.tokens", "nav.apps", "nav.authorized", "nav.workspaces", "console.title", "error.not_found.title",
		"tokens.title", "tokens.new.title", "tokens.edit.title", "tokens.created.title", "tokens.delete.title",
		"tokens.exp.day", "tokens.exp.days", "tokens.exp.custom", "tokens.exp.permanent",
		"tokens.done.updated", "tokens.done.deleted", "tokens.err.name", "tokens.err.name_long",
		"tokens.err.expiration", "tokens.err.date", "tokens.err.date_past", "tokens.err.account",
		"tokens.err.workspaces", "tokens.err.permissions", "nav.sats")
	// The token pages' kind-specific keys (see tokenKind.view).
	for _, kind := range []string{"tokens", "sats"} {
		for _, what := range []string{"title", "intro", "empty", "back", "account", "new.title"} {
			keys = append(keys, kind+"."+what)
		}
	}
	for _, k := range keys {
		if _, ok := messages[k]; !ok {
			t.Errorf("catalog lacks %q", k)
		}
	}
}

func TestParsePages(t *testing.T) {
	ok := fstest.MapFS{"templates/layout.html": {Data: []byte(`{{define "layout"}}{{template "content" .}}{{end}}`)}}
	for _, n := range pageNames {
		ok["templates/"+n+".html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.T "login.title"}}{{end}}`)}
	}
	if _, err := parsePages(ok); err != nil {
		t.Fatalf("parsePages(complete set): %v", err)
	}
	if _, err := parsePages(templateFiles); err != nil {
		t.Fatalf("parsePages(embedded): %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(fstest.MapFS)
		want string
	}{
		{"missing page", func(m fstest.MapFS) { delete(m, "templates/consent.html") }, "consent.html"},
		{"missing layout", func(m fstest.MapFS) { delete(m, "templates/layout.html") }, "layout.html"},
		{"unknown message", func(m fstest.MapFS) {
			m["templates/login.html"] = &fstest.MapFile{Data: []byte(`{{define "content"}}{{.T "no.such.key"}}{{end}}`)}
		}, "no.such.key"},
		{"no content", func(m fstest.MapFS) {
			m["templates/error.html"] = &fstest.MapFile{Data: []byte(`hello`)}
		}, "content"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fstest.MapFS{}
			for k, v := range ok {
				m[k] = v
			}
			tc.edit(m)
			_, err := parsePages(m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parsePages = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/device?user_code=AB", "/device?user_code=AB"},
		{"/", "/"},
		{"", ""},
		{"//evil.com", ""},
		{"///evil.com", ""},
		{"/\\evil.com", ""},
		{"/a\\b", ""},
		{"https://evil.com", ""},
		{"evil.com", ""},
		{"javascript:alert(1)", ""},
		{"/x\r\nSet-Cookie: a=b", ""},
		{"/\tevil", ""},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAcceptLanguage(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   Lang
	}{
		{"", En},
		{"fr-FR,fr;q=0.9", En},
		{"zh-CN", ZhCN},
		{"zh-TW,zh;q=0.9", ZhCN},
		{"en-US,en;q=0.9,zh-CN;q=0.8", En},
		{"fr;q=1, zh-CN;q=0.5, en;q=0.4", ZhCN},
		{"en;q=0.2, zh;q=0.8", ZhCN},
		{"zh;q=0, en", En},
		{"*", En},
	} {
		if got := acceptLanguage(tc.header); got != tc.want {
			t.Errorf("acceptLanguage(%q) = %q, want %q", tc.header, got, tc.want)
		}
	}
}

func TestSignInLimiter(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	window := time.Minute
	t.Run("counted before judging; per (ip, user)", func(t *testing.T) {
		l := newSignInLimiter(2, window)
		for _, name := range []string{"alice", "Alice"} {
			if !l.attempt(now, "ip1", name) {
				t.Fatalf("refused an attempt under the limit (%s)", name)
			}
		}
		// Neither attempt has been judged yet, and a third is refused.
		if l.attempt(now, "ip1", "alice") {
			t.Fatal("a third attempt from ip1 was let in")
		}
		if !l.attempt(now, "ip2", "alice") {
			t.Error("another client was refused: anyone could lock alice out")
		}
		if !l.attempt(now, "ip1", "bob") {
			t.Error("ip1 refused for another user before its per-IP limit")
		}
		if !l.attempt(now.Add(window), "ip1", "alice") {
			t.Error("still refused after the window")
		}
	})
	t.Run("succeeded and unjudged attempts are taken back", func(t *testing.T) {
		l := newSignInLimiter(2, window)
		l.attempt(now, "ip1", "alice")
		l.attempt(now, "ip1", "alice")
		l.succeeded("ip1", "alice")
		for i := range 2 {
			if !l.attempt(now, "ip1", "alice") {
				t.Errorf("attempt %d after a success refused: failures before it still count", i+1)
			}
		}
		l.unjudged("ip1", "alice")
		if !l.attempt(now, "ip1", "alice") {
			t.Error("an unjudged attempt still counts")
		}
	})
	t.Run("per IP across usernames", func(t *testing.T) {
		l := newSignInLimiter(2, window) // per-IP limit 10
		for i := range 10 {
			if !l.attempt(now, "ip1", fmt.Sprintf("user%d", i)) {
				t.Fatalf("attempt %d refused", i)
			}
		}
		if l.attempt(now, "ip1", "user99") {
			t.Error("an 11th username from one IP was let in")
		}
	})
	t.Run("per username: only clients that failed are stopped", func(t *testing.T) {
		l := newSignInLimiter(2, window) // per-user limit 10 per 12 windows
		for i := range 10 {
			if !l.attempt(now, fmt.Sprintf("attacker%d", i), "alice") {
				t.Fatalf("attempt %d refused", i)
			}
		}
		later := now.Add(2 * window) // the pair and IP windows have passed, the user's has not
		if !l.attempt(later, "attacker1", "bob") || l.attempt(later, "attacker1", "alice") {
			t.Error("a client that failed (at bob) was not stopped by alice's per-username limit")
		}
		if !l.attempt(later, "clean", "alice") {
			t.Error("a client that never failed was refused: the per-username limit locks alice out")
		}
	})
	t.Run("keys are bounded", func(t *testing.T) {
		l := newSignInLimiter(2, window)
		l.attempt(now, "ip1", strings.Repeat("x", 64<<10))
		for k := range l.user.m {
			if len(k) > maxUsernameKey {
				t.Errorf("a user key of %d bytes", len(k))
			}
		}
		for i := range maxLimiterKeys + 10 {
			l.attempt(now, fmt.Sprintf("ip-%d", i), "u")
		}
		if n := len(l.ip.m); n > maxLimiterKeys {
			t.Errorf("%d IP keys kept; want at most %d", n, maxLimiterKeys)
		}
		l.attempt(now.Add(window), "ip1", "u") // the periodic sweep drops expired windows
		if n := len(l.ip.m); n > 1 {
			t.Errorf("%d IP keys kept after their windows expired; want 1", n)
		}
	})
}

// TestCustomExpiryZone: a custom date ends at the end of that day in the
// browser's zone (issue 12.7: 2026-12-20 picked in Asia/Shanghai was stored
// as 12-21 07:59 there); without a usable zone, at the end of the day in UTC.
func TestCustomExpiryZone(t *testing.T) {
	for _, tc := range []struct {
		zone, want string
	}{
		{"Asia/Shanghai", "2026-12-20T23:59:59+08:00"},
		{"America/New_York", "2026-12-20T23:59:59-05:00"},
		{"", "2026-12-20T23:59:59Z"},
		{"Local", "2026-12-20T23:59:59Z"},
		{"Mars/Olympus", "2026-12-20T23:59:59Z"},
	} {
		exp, key := tokenForm{Expiration: "custom", ExpireDate: "2026-12-20", Zone: tc.zone}.expiry()
		want, _ := time.Parse(time.RFC3339, tc.want)
		if key != "" || exp.At != want.Unix() {
			t.Errorf("zone %q: expiry %d (%s), key %q; want %s", tc.zone, exp.At, time.Unix(exp.At, 0).UTC(), key, tc.want)
		}
	}
}
