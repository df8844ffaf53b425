package storetest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// The pool part: nothing a request does may need a second connection while
// its own transaction holds one. With every pooled connection held by a
// transaction that waits for another, nothing proceeds (issue 14: the
// authorization-code grant hung on PostgreSQL at 32 clients because the
// ExchangeAuthCode callback read the grant through the pool). The grants run
// through the real OAuth service, with its caches dropped before every
// request so every read reaches the store.

// poolBound is how long a pool test may take before it counts as hung. It is
// generous (the machine may be slow); a hang is a wait for a connection that
// never comes, which only the deadline ends.
const poolBound = 60 * time.Second

// poolClients is how many requests of each grant run at once on a pool of
// two connections.
const poolClients = 8

func runPool(t *testing.T, openPool func(t *testing.T, conns int) store.Store) {
	t.Helper()
	// One connection: a callback that needs a second one hangs every time,
	// whatever the timing.
	t.Run("GrantsOnOneConnection", func(t *testing.T) {
		e := newGrantEnv(t, openPool(t, 1), 1)
		ctx, cancel := context.WithTimeout(t.Context(), poolBound)
		defer cancel()
		refresh := e.exchange(ctx, t, e.codes[0])
		e.refresh(ctx, t, refresh)
		e.redeemDevice(ctx, t, e.devices[0])
		e.jwtGrant(ctx, t, e.jwts[0])
		if ctx.Err() != nil {
			t.Fatalf("grants on a pool of one connection did not finish within %s: a store callback waits for a connection its own transaction holds", poolBound)
		}
	})
	t.Run("ConcurrentGrantsOnTwoConnections", func(t *testing.T) {
		e := newGrantEnv(t, openPool(t, 2), poolClients)
		ctx, cancel := context.WithTimeout(t.Context(), poolBound)
		defer cancel()
		refreshes := make([]string, poolClients)
		parallel(3*poolClients, func(i int) {
			switch n := i % poolClients; i / poolClients {
			case 0:
				refreshes[n] = e.exchange(ctx, t, e.codes[n])
			case 1:
				e.redeemDevice(ctx, t, e.devices[n])
			case 2:
				e.jwtGrant(ctx, t, e.jwts[n])
			}
		})
		parallel(poolClients, func(i int) {
			if refreshes[i] != "" {
				e.refresh(ctx, t, refreshes[i])
			}
		})
		if ctx.Err() != nil {
			t.Fatalf("%d concurrent requests of each grant on a pool of two connections did not finish within %s", poolClients, poolBound)
		}
	})
	// The revision poll reads on a connection of its own: with every
	// pooled connection busy it still answers (a failed poll drops every
	// cache).
	t.Run("RevisionWithPoolBusy", func(t *testing.T) {
		f := newFixture(t, openPool(t, 1))
		release := f.holdPool(f.oauthSetup().app.ID)
		ctx, cancel := context.WithTimeout(f.ctx, poolBound)
		_, err := f.s.Revision(ctx)
		cancel()
		release()
		if err != nil {
			t.Errorf("Revision while the only pooled connection is held: %v; want it answered on its own connection", err)
		}
	})
	// Under store.WithCallTimeout a call that cannot get a connection ends
	// by the bound with ErrUnavailable (or a deadline), and says so on the
	// context; it never waits for ever.
	t.Run("CallTimeoutWithPoolBusy", func(t *testing.T) {
		f := newFixture(t, openPool(t, 1))
		o := f.oauthSetup()
		other := f.app(o.user.Account(), o.user.ID, store.ClientWebBackend)
		release := f.holdPool(o.app.ID)
		defer release()
		for _, tc := range []struct {
			name string
			call func(ctx context.Context) error
		}{
			{"read", func(ctx context.Context) error { _, err := f.s.GetApp(ctx, other.ID); return err }},
			{"list", func(ctx context.Context) error {
				_, err := f.s.ListGrants(ctx, store.GrantFilter{AppID: other.ID})
				return err
			}},
			{"transaction", func(ctx context.Context) error {
				_, err := f.s.UpdateApp(ctx, other.ID, func(a store.App) (store.App, error) { return a, nil })
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				outer, cancel := context.WithTimeout(f.ctx, poolBound)
				defer cancel()
				ctx := store.WithCallTimeout(outer, 50*time.Millisecond)
				err := tc.call(ctx)
				switch {
				case outer.Err() != nil:
					t.Fatalf("the call waited past %s for a connection: its call timeout did not end it", poolBound)
				case !store.Unavailable(err):
					t.Errorf("with the pool busy: %v; want ErrUnavailable or a deadline", err)
				case !store.CallTimedOut(ctx):
					t.Errorf("with the pool busy the call failed (%v) but the context does not say its bound ran out", err)
				}
			})
		}
	})
}

// holdPool holds one pooled connection in a transaction (an UpdateApp of
// appID whose callback waits) until release is called; on a pool of one
// connection, every other call then waits for a connection.
func (f *fixture) holdPool(appID string) (release func()) {
	f.t.Helper()
	held, done := make(chan struct{}), make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		_, err := f.s.UpdateApp(f.ctx, appID, func(a store.App) (store.App, error) {
			close(held)
			<-stop
			return a, nil
		})
		done <- err
	}()
	select {
	case <-held:
	case err := <-done:
		f.t.Fatalf("UpdateApp to hold the pool: %v", err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			if err := <-done; err != nil {
				f.t.Errorf("UpdateApp holding the pool: %v", err)
			}
		})
	}
}

// grantEnv is an OAuth service over s with, for each of n clients, an
// authorization code (each of its own user, so each under its own grant), an
// approved device code and a signed JWT.
type grantEnv struct {
	svc     *oauth.Service
	gen     *cache.Generation
	web     store.App
	secret  string
	dev     store.App
	codes   []string
	devices []string
	jwts    []string
}

const grantEnvURL = "http://auth.test:8080"

func newGrantEnv(t *testing.T, s store.Store, n int) *grantEnv {
	t.Helper()
	ctx := t.Context()
	now := time.Unix(baseTime, 0)
	e := &grantEnv{gen: &cache.Generation{}}
	e.svc = (&oauth.Service{Store: s, Catalog: permission.Default(), Lifetimes: oauth.DefaultLifetimes(), PublicURL: grantEnvURL,
		Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(e.gen)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	f := newFixture(t, s)
	owner := f.user("pool-owner")
	perms := []string{"Bot.chat"}
	var err error
	e.web, e.secret, err = e.svc.CreateApp(ctx, oauth.AppSpec{Owner: owner.Account(), CreatedBy: owner.ID, Type: store.ClientWebBackend,
		Name: "pool web", RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Permissions: perms})
	must("CreateApp(web)", err)
	e.dev, _, err = e.svc.CreateApp(ctx, oauth.AppSpec{Owner: owner.Account(), CreatedBy: owner.ID, Type: store.ClientTerminal,
		Name: "pool device", Permissions: perms})
	must("CreateApp(device)", err)
	svcApp, _, err := e.svc.CreateApp(ctx, oauth.AppSpec{Owner: owner.Account(), CreatedBy: owner.ID, Type: store.ClientService,
		Name: "pool jwt", Permissions: perms})
	must("CreateApp(jwt)", err)
	key, privPEM, err := e.svc.GenerateKey(ctx, svcApp.ID)
	must("GenerateKey", err)
	_, err = e.svc.AuthorizeApp(ctx, svcApp.ID, owner.ID, true, nil)
	must("AuthorizeApp", err)
	block, _ := pem.Decode([]byte(privPEM))
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	must("parse the generated key", err)
	priv := parsed.(*rsa.PrivateKey)

	for i := range n {
		u := f.user(fmt.Sprintf("pool-user-%d", i))
		choice := oauth.Choice{UserID: u.ID, Account: u.Account(), AllWorkspaces: true}
		q := url.Values{"response_type": {"code"}, "client_id": {e.web.ClientID}, "redirect_uri": {e.web.RedirectURIs[0]}}
		req, err := e.svc.ParseAuthorize(ctx, q, "")
		must("ParseAuthorize", err)
		loc, err := e.svc.Approve(ctx, req, choice)
		must("Approve", err)
		lu, err := url.Parse(loc)
		must("parse the redirect", err)
		e.codes = append(e.codes, lu.Query().Get("code"))

		rec := e.post(ctx, e.svc.DeviceCode, "", map[string]any{"client_id": e.dev.ClientID})
		if rec.Code != http.StatusOK {
			t.Fatalf("device code: %d %s", rec.Code, rec.Body)
		}
		var d struct {
			DeviceCode string `json:"device_code"`
			UserCode   string `json:"user_code"`
		}
		must("device code reply", json.Unmarshal(rec.Body.Bytes(), &d))
		p, err := e.svc.LookupDevice(ctx, d.UserCode)
		must("LookupDevice", err)
		must("ApproveDevice", e.svc.ApproveDevice(ctx, p, choice))
		e.devices = append(e.devices, d.DeviceCode)

		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"iss": svcApp.ClientID, "aud": strings.TrimPrefix(grantEnvURL, "http://"),
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": fmt.Sprintf("pool-%d", i)})
		tok.Header["kid"] = key.ID
		signed, err := tok.SignedString(priv)
		must("sign a JWT", err)
		e.jwts = append(e.jwts, signed)
	}
	return e
}

// post runs the handler on a JSON body under ctx, with the service's caches
// dropped first, so the request reads everything from the store.
func (e *grantEnv) post(ctx context.Context, h http.HandlerFunc, bearer string, body map[string]any) *httptest.ResponseRecorder {
	e.gen.Invalidate()
	b, _ := json.Marshal(body)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/permission/oauth2/token", strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

// token posts a /token request that must succeed and returns its refresh
// token ("" for the JWT grant). Failures go to t.Errorf: it runs on the
// test's worker goroutines.
func (e *grantEnv) token(ctx context.Context, t *testing.T, what, bearer string, body map[string]any) string {
	rec := e.post(ctx, e.svc.Token, bearer, body)
	var out struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.AccessToken == "" {
		t.Errorf("%s: HTTP %d %s", what, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	return out.RefreshToken
}

func (e *grantEnv) exchange(ctx context.Context, t *testing.T, code string) string {
	return e.token(ctx, t, "authorization code exchange", e.secret, map[string]any{"grant_type": oauth.GrantTypeAuthorizationCode,
		"client_id": e.web.ClientID, "code": code, "redirect_uri": e.web.RedirectURIs[0]})
}

func (e *grantEnv) refresh(ctx context.Context, t *testing.T, refreshToken string) {
	e.token(ctx, t, "refresh", e.secret, map[string]any{"grant_type": oauth.GrantTypeRefreshToken,
		"client_id": e.web.ClientID, "refresh_token": refreshToken})
}

func (e *grantEnv) redeemDevice(ctx context.Context, t *testing.T, deviceCode string) {
	e.token(ctx, t, "device redemption", "", map[string]any{"grant_type": oauth.GrantTypeDeviceCode,
		"client_id": e.dev.ClientID, "device_code": deviceCode})
}

func (e *grantEnv) jwtGrant(ctx context.Context, t *testing.T, signed string) {
	e.token(ctx, t, "JWT grant", signed, map[string]any{"grant_type": oauth.GrantTypeJWTBearer})
}
