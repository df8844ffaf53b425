//go:build ignore

package main

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// codeFlow is the authorization-code flow of web apps (client secret) and pkce apps (S256 code verifier).
type codeFlow struct {
	pkce bool
}

// pending remembers each state this sample sent (with its PKCE verifier) until the callback uses it.
var pending = struct {
	sync.Mutex
	m map[string]pendingAuth
}{m: map[string]pendingAuth{}}

type pendingAuth struct {
	verifier string
	at       time.Time
}

func (f codeFlow) check(cfg *config) error {
	if !f.pkce && cfg.ClientSecret == "" {
		return errMissing("client_secret")
	}
	return nil
}

func (f codeFlow) routes(a *app, mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.renderStart(w, r, "start", "/start", a.redirectURI)
	})
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) { f.start(a, w, r) })
	mux.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) { f.callback(a, w, r) })
	mux.HandleFunc("/refresh", a.handleRefresh)
}

// start redirects the browser to the authorization page with a fresh state (and PKCE challenge).
func (f codeFlow) start(a *app, w http.ResponseWriter, r *http.Request) {
	state := randomHex(16)
	q := url.Values{}
	q.Set("response_type", "code")
	q.Set("client_id", a.cfg.ClientID)
	q.Set("redirect_uri", a.redirectURI)
	q.Set("state", state)
	p := pendingAuth{at: time.Now()}
	if f.pkce {
		p.verifier = randomHex(32)
		sum := sha256.Sum256([]byte(p.verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	}
	pending.Lock()
	for k, v := range pending.m { // forget flows never finished
		if time.Since(v.at) > 30*time.Minute {
			delete(pending.m, k)
		}
	}
	pending.m[state] = p
	pending.Unlock()
	http.Redirect(w, r, a.cfg.WWWBase+"/api/permission/oauth2/authorize?"+q.Encode(), http.StatusFound)
}

// callback checks the state, exchanges the code (WIRE.md §3.2) and shows the user.
func (f codeFlow) callback(a *app, w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l := lang(r)
	pending.Lock()
	p, ok := pending.m[q.Get("state")]
	delete(pending.m, q.Get("state"))
	pending.Unlock()
	if !ok {
		a.failWith(w, r, http.StatusOK, &apiError{Message: tr(l, "stateMismatch")})
		return
	}
	if e := q.Get("error"); e != "" {
		msg := q.Get("error_description")
		if msg == "" {
			msg = q.Get("error_message")
		}
		if msg == "" && e == "access_denied" {
			msg = tr(l, "denied")
		}
		if msg == "" {
			msg = e
		}
		a.failWith(w, r, http.StatusOK, &apiError{Code: e, Message: msg, LogID: q.Get("logid")})
		return
	}
	code := q.Get("code")
	if code == "" {
		a.failWith(w, r, http.StatusOK, &apiError{Message: tr(l, "noCode")})
		return
	}
	body := map[string]interface{}{
		"client_id":    a.cfg.ClientID,
		"grant_type":   "authorization_code",
		"code":         code,
		"redirect_uri": a.redirectURI,
	}
	bearer := a.cfg.ClientSecret
	if f.pkce {
		body["code_verifier"] = p.verifier
		bearer = ""
	}
	t, err := a.requestToken(bearer, body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.finish(w, r, t)
}
