package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// TestShownOncePagesReload: every page that shows a secret once is reached by
// POST/redirect/GET; reloading it (the GET again) shows no secret, says it
// was already shown, and creates nothing (issue 12.3). Another session cannot
// take the flash either.
func TestShownOncePagesReload(t *testing.T) {
	se := newSATEnv(t)
	e := se.env
	ctx := t.Context()
	countCreds := func() int {
		cs, err := e.store.ListCredentials(ctx, store.CredentialFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(cs)
	}
	b := e.browser()
	b.signIn()
	web := b.createApp(store.ClientWebBackend) // shows its first secret
	webPath := strings.TrimSuffix(web.shownFrom, "/secret")
	svc := b.createApp(store.ClientService)
	svcPath := svc.location()
	if i := strings.IndexByte(svcPath, '?'); i >= 0 {
		svcPath = svcPath[:i]
	}
	secrets := func() int {
		s, _ := e.store.ListAppSecrets(ctx, strings.TrimPrefix(webPath, "/console/apps/"))
		return len(s)
	}
	keys := func() int {
		k, _ := e.store.ListAppKeys(ctx, strings.TrimPrefix(svcPath, "/console/apps/"))
		return len(k)
	}
	csrfOf := func(path string) string { return b.get(path).hidden().Get("csrf_token") }

	for _, tc := range []struct {
		name   string
		create func() page
		secret *regexp.Regexp
		gone   string
		count  func() int
	}{
		{"PAT", func() page { p, _ := b.createToken(); return p }, tokenInputRE, "This token was already shown", countCreds},
		{"SAT", func() page {
			return b.post("/console/sats", se.satForm(csrfOf("/console/sats/new")))
		}, tokenInputRE, "This token was already shown", countCreds},
		{"web app's first secret", func() page { return web }, secretInputRE, "This value was already shown", secrets},
		{"added secret", func() page {
			return b.post(webPath+"/secrets", url.Values{"csrf_token": {csrfOf(webPath)}})
		}, secretInputRE, "This value was already shown", secrets},
		{"generated key pair", func() page {
			return b.post(svcPath+"/keys/generate", url.Values{"csrf_token": {csrfOf(svcPath)}})
		}, secretAreaRE, "This value was already shown", keys},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.create()
			if p.shownFrom == "" || p.status != http.StatusOK || tc.secret.FindStringSubmatch(p.body) == nil {
				t.Fatalf("create: status %d, shown from %q, no secret:\n%s", p.status, p.shownFrom, p.body)
			}
			wantNoStore(t, "shown once", p)
			before := tc.count()
			again := b.get(p.shownFrom)
			wantStatus(t, "reload", again, http.StatusOK)
			wantBody(t, "reload", again, tc.gone)
			if tc.secret.MatchString(again.body) {
				t.Errorf("reload shows the secret again:\n%s", again.body)
			}
			if after := tc.count(); after != before {
				t.Errorf("reload changed the count %d → %d", before, after)
			}
		})
	}

	t.Run("another session cannot take the flash", func(t *testing.T) {
		b2 := e.browser()
		b2.signIn()
		np := b.get("/console/tokens/new")
		// Post without following, then let the other session ask first.
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/console/tokens",
			strings.NewReader(e.createForm(np.hidden().Get("csrf_token")).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := b.do(req)
		wantStatus(t, "create", p, http.StatusSeeOther)
		if other := b2.get(p.location()); tokenInputRE.MatchString(other.body) {
			t.Errorf("another session saw the token:\n%s", other.body)
		}
		if mine := b.get(p.location()); !tokenInputRE.MatchString(mine.body) {
			t.Errorf("the creating session did not see its token:\n%s", mine.body)
		}
	})
}
