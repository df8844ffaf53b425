//go:build ignore

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

var httpClient = &http.Client{Timeout: 15 * time.Second}

// apiError is a failed call: the server's error code and message and its log ID, or a transport error.
type apiError struct {
	Code    string // OAuth error code (authorization_pending, invalid_client, …); "" for other failures
	Message string
	LogID   string
}

func (e *apiError) Error() string {
	s := e.Message
	if e.Code != "" {
		s = e.Code + ": " + s
	}
	if e.LogID != "" {
		s += " (logid " + e.LogID + ")"
	}
	return s
}

// token is a token response (WIRE.md §3.4); ExpiresIn is an absolute Unix time.
type token struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// user is the data of GET /v1/users/me.
type user struct {
	UserID   string `json:"user_id"`
	UserName string `json:"user_name"`
	NickName string `json:"nick_name"`
}

// postJSON POSTs body as JSON to the API base + path. bearer "" sends no Authorization header.
// It returns the decoded JSON object of a 2xx answer, or an *apiError.
func (a *app) postJSON(path, bearer string, body map[string]interface{}) (map[string]json.RawMessage, error) {
	buf, err := json.Marshal(body)
	if err != nil {
		return nil, &apiError{Message: err.Error()}
	}
	req, err := http.NewRequest(http.MethodPost, a.cfg.APIBase+path, bytes.NewReader(buf))
	if err != nil {
		return nil, &apiError{Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(req)
}

func do(req *http.Request) (map[string]json.RawMessage, error) {
	resp, err := httpClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the method and URL
		}
		return nil, &apiError{Message: fmt.Sprintf("cannot reach %s: %v", req.URL.Host, err)}
	}
	defer resp.Body.Close()
	logID := resp.Header.Get("X-Tt-Logid")
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, &apiError{Message: fmt.Sprintf("reading the answer of %s: %v", req.URL.Path, err), LogID: logID}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, &apiError{Message: fmt.Sprintf("%s answered HTTP %d, not a JSON object", req.URL.Path, resp.StatusCode), LogID: logID}
	}
	code := str(obj, "error_code")
	if code == "" {
		code = str(obj, "error")
	}
	if code != "" || resp.StatusCode/100 != 2 {
		msg := str(obj, "error_message")
		if msg == "" {
			msg = str(obj, "error_description")
		}
		if msg == "" {
			msg = str(obj, "msg")
		}
		if msg == "" {
			msg = fmt.Sprintf("%s answered HTTP %d", req.URL.Path, resp.StatusCode)
		}
		if logID == "" {
			logID = detailLogID(obj)
		}
		return nil, &apiError{Code: code, Message: msg, LogID: logID}
	}
	return obj, nil
}

// str returns obj[key] when it is a JSON string, else "".
func str(obj map[string]json.RawMessage, key string) string {
	var s string
	if v, ok := obj[key]; ok && json.Unmarshal(v, &s) == nil {
		return s
	}
	return ""
}

func detailLogID(obj map[string]json.RawMessage) string {
	var d struct {
		LogID string `json:"logid"`
	}
	if v, ok := obj["detail"]; ok && json.Unmarshal(v, &d) == nil {
		return d.LogID
	}
	return ""
}

// requestToken POSTs a grant to the token endpoint and returns the token.
func (a *app) requestToken(bearer string, body map[string]interface{}) (*token, error) {
	obj, err := a.postJSON("/api/permission/oauth2/token", bearer, body)
	if err != nil {
		return nil, err
	}
	var t token
	raw, _ := json.Marshal(obj)
	if err := json.Unmarshal(raw, &t); err != nil || t.AccessToken == "" {
		return nil, &apiError{Message: "the token endpoint answered without an access_token"}
	}
	return &t, nil
}

// refresh exchanges a refresh token (WIRE.md §3.2: a web app sends its client secret, other types none).
func (a *app) refresh(refreshToken string) (*token, error) {
	secret := ""
	if a.cfg.ClientType == "web" {
		secret = a.cfg.ClientSecret
	}
	return a.requestToken(secret, map[string]interface{}{
		"client_id":     a.cfg.ClientID,
		"grant_type":    "refresh_token",
		"refresh_token": refreshToken,
	})
}

// me calls GET /v1/users/me with the access token.
func (a *app) me(accessToken string) (*user, error) {
	req, err := http.NewRequest(http.MethodGet, a.cfg.APIBase+"/v1/users/me", nil)
	if err != nil {
		return nil, &apiError{Message: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	obj, err := do(req)
	if err != nil {
		return nil, err
	}
	var env struct {
		Code int64  `json:"code"`
		Msg  string `json:"msg"`
		Data *user  `json:"data"`
	}
	raw, _ := json.Marshal(obj)
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, &apiError{Message: "/v1/users/me answered an unexpected body"}
	}
	if env.Code != 0 || env.Data == nil {
		msg := env.Msg
		if msg == "" {
			msg = fmt.Sprintf("/v1/users/me answered code %d", env.Code)
		}
		return nil, &apiError{Message: msg, LogID: detailLogID(obj)}
	}
	return env.Data, nil
}

// randomHex returns n random bytes as lowercase hex.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return hex.EncodeToString(b)
}

// session is the signed-in result shown on the success page; kept in memory only.
type session struct {
	mu    sync.Mutex
	tok   *token
	user  *user
	valid bool
}

var current session

func (s *session) set(t *token, u *user) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok, s.user, s.valid = t, u, true
}

func (s *session) get() (*token, *user, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok, s.user, s.valid
}

// finish fetches the user with a fresh token and shows the success page (or the error page).
func (a *app) finish(w http.ResponseWriter, r *http.Request, t *token) {
	u, err := a.me(t.AccessToken)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	current.set(t, u)
	a.renderSuccess(w, r, t, u)
}

// handleRefresh is POST /refresh of the web, pkce and device samples.
func (a *app) handleRefresh(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	t, _, ok := current.get()
	if !ok || t.RefreshToken == "" {
		a.fail(w, r, &apiError{Message: tr(lang(r), "noToken")})
		return
	}
	nt, err := a.refresh(t.RefreshToken)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.finish(w, r, nt)
}
