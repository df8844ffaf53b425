package main

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// runHydra measures the same grants on Ory Hydra (scripts/bench-compare
// starts it): the JWT-bearer grant (RFC 7523) of a trusted issuer, the
// authorization-code exchange and the refresh grant, with a client that
// authenticates with client_secret_post (Hydra requires client
// authentication on every grant, JWT bearer included). As for cozeauth, the
// inputs are made before the timed part: the JWTs signed, and each code
// obtained through Hydra's login and consent handshake.
func runHydra(public, admin string, dur time.Duration, conns, rate int) error {
	if public == "" || admin == "" {
		return fmt.Errorf("-hydra-public and -hydra-admin go together")
	}
	cpu = cpuProbe{serverPID: -1} // Hydra's process is bench-compare's
	c := &http.Client{Timeout: 30 * time.Second}
	const redirect = "http://127.0.0.1:9/cb"
	var cl struct {
		ID     string `json:"client_id"`
		Secret string `json:"client_secret"`
	}
	if err := hydraJSON(c, "POST", admin+"/admin/clients", map[string]any{
		"grant_types":                []string{"authorization_code", "refresh_token", jwtBearer},
		"response_types":             []string{"code"},
		"scope":                      "bench offline_access",
		"redirect_uris":              []string{redirect},
		"token_endpoint_auth_method": "client_secret_post",
	}, &cl); err != nil {
		return fmt.Errorf("create client: %w", err)
	}

	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	// A trusted issuer of this run's own (a rerun against the same Hydra
	// adds another).
	run := time.Now().UnixNano()
	issuer, subject, kid := fmt.Sprintf("bench-issuer-%d", run), "bench-subject", fmt.Sprintf("bench-key-%d", run)
	jwk := map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes())}
	if err := hydraJSON(c, "POST", admin+"/admin/trust/grants/jwt-bearer/issuers", map[string]any{
		"issuer": issuer, "subject": subject, "scope": []string{"bench"}, "jwk": jwk,
		"expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
	}, nil); err != nil {
		return fmt.Errorf("trust the JWT issuer: %w", err)
	}

	n := int(dur.Seconds()) * rate
	fmt.Printf("preparing %d signed JWTs and %d authorization codes through Hydra's login and consent (client-side work, not timed)…\n", n, n)
	tokenURL := public + "/oauth2/token"
	now := time.Now()
	jwts, err := signJWTs(priv, kid, n, func(i int) jwt.MapClaims {
		return jwt.MapClaims{"iss": issuer, "sub": subject, "aud": tokenURL, "iat": now.Unix(),
			"exp": now.Add(time.Hour).Unix(), "jti": fmt.Sprintf("bench-%d-%d", now.UnixNano(), i)}
	})
	if err != nil {
		return err
	}
	codes, err := prepare(n, func(i int) (code string, err error) {
		// Hydra on SQLite fails a share of concurrent flows ("unable to
		// serialize access due to a concurrent update"): start such a
		// flow over.
		for try := 0; try < 10; try++ {
			if code, err = hydraCode(public, admin, cl.ID, redirect); err == nil {
				break
			}
		}
		return code, err
	})
	if err != nil {
		return fmt.Errorf("authorization code through login and consent: %w", err)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 10 * time.Second}
	token := func(form url.Values) (tokenOut, error) {
		form.Set("client_id", cl.ID)
		form.Set("client_secret", cl.Secret)
		return postForm(client, tokenURL, form)
	}
	measureEach("hydra jwt-bearer", dur, conns, jwts, func(jwt string) error {
		_, err := token(url.Values{"grant_type": {jwtBearer}, "assertion": {jwt}, "scope": {"bench"}})
		return err
	})
	refreshes := measureCodes("hydra authorization_code", dur, conns, codes, func(code string) (tokenOut, error) {
		return token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}})
	})
	measureRefresh("hydra refresh_token", dur, conns, refreshes, func(rt string) (string, error) {
		out, err := token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		return out.RefreshToken, err
	})
	return nil
}

const jwtBearer = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// hydraCode obtains one authorization code as a browser and a login and
// consent app would: the authorization request, the login accepted for a
// subject, the consent accepted for the requested scopes, each followed by
// the redirect it answers with, until the redirect to the client.
func hydraCode(public, admin, clientID, redirect string) (string, error) {
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	follow := func(u string) (*url.URL, error) {
		resp, err := browser.Get(u)
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("GET %s: HTTP %d, want a redirect", u, resp.StatusCode)
		}
		return resp.Location()
	}
	accept := func(kind, challenge string, body any) (string, error) {
		var out struct {
			RedirectTo string `json:"redirect_to"`
		}
		err := hydraJSON(browser, "PUT", admin+"/admin/oauth2/auth/requests/"+kind+"/accept?"+kind+"_challenge="+url.QueryEscape(challenge), body, &out)
		return out.RedirectTo, err
	}
	state := make([]byte, 12)
	_, _ = rand.Read(state)
	login, err := follow(public + "/oauth2/auth?" + url.Values{"client_id": {clientID}, "response_type": {"code"},
		"scope": {"bench offline_access"}, "redirect_uri": {redirect}, "state": {base64.RawURLEncoding.EncodeToString(state)}}.Encode())
	if err != nil {
		return "", err
	}
	to, err := accept("login", login.Query().Get("login_challenge"), map[string]any{"subject": "bench-user"})
	if err != nil {
		return "", err
	}
	consent, err := follow(to)
	if err != nil {
		return "", err
	}
	if to, err = accept("consent", consent.Query().Get("consent_challenge"),
		map[string]any{"grant_scope": []string{"bench", "offline_access"}}); err != nil {
		return "", err
	}
	back, err := follow(to)
	if err != nil {
		return "", err
	}
	code := back.Query().Get("code")
	if code == "" {
		return "", fmt.Errorf("redirect %s carries no code", back)
	}
	return code, nil
}

// hydraJSON sends body as JSON and decodes a 2xx answer into out (when not nil).
func hydraJSON(c *http.Client, method, u string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, rb)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(rb, out)
}

// postForm posts an application/x-www-form-urlencoded token request.
func postForm(c *http.Client, u string, form url.Values) (tokenOut, error) {
	resp, err := c.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenOut{}, err
	}
	return readToken(resp)
}
