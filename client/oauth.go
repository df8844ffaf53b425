package client

// OAuth flows of the Coze OpenAPI (WIRE.md §3–§6), shaped like coze-go's
// OAuth clients: Web (client secret), PKCE, device code and JWT. They work
// against cozeauth and against the Coze cloud.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// OAuth endpoint paths (WIRE.md §3).
const (
	pathAuthorize  = "/api/permission/oauth2/authorize"
	pathToken      = "/api/permission/oauth2/token"
	pathDeviceCode = "/api/permission/oauth2/device/code"
)

// Grant types (WIRE.md §4.1).
const (
	GrantTypeAuthorizationCode = "authorization_code"
	GrantTypeRefreshToken      = "refresh_token"
	GrantTypeDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTypeJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

// OAuth error codes a token or device-code endpoint answers (RFC 6749 §5.2,
// RFC 8628 §3.5), found in AuthError.Code.
const (
	ErrCodeInvalidRequest       = "invalid_request"
	ErrCodeInvalidClient        = "invalid_client"
	ErrCodeInvalidGrant         = "invalid_grant"
	ErrCodeUnauthorizedClient   = "unauthorized_client"
	ErrCodeUnsupportedGrantType = "unsupported_grant_type"
	ErrCodeInvalidScope         = "invalid_scope"
	ErrCodeAccessDenied         = "access_denied"
	ErrCodeAuthorizationPending = "authorization_pending"
	ErrCodeSlowDown             = "slow_down"
	ErrCodeExpiredToken         = "expired_token"
)

// Device polling as every Coze SDK does it (WIRE.md §6.2): start at 5 s, add
// 5 s on slow_down while below 30 s.
const (
	defaultDevicePollInterval = 5 * time.Second
	slowDownStep              = 5 * time.Second
	maxDevicePollInterval     = 30 * time.Second
)

// WithWWWURL sets the base URL of the browser pages (the "WWW host" of
// WIRE.md §1.2) used by OAuthURL and PKCEURL; by default it is the API base
// URL, which is right for cozeauth. For the Coze cloud pass
// "https://www.coze.com" or "https://www.coze.cn".
func WithWWWURL(u string) Option {
	return func(c *Client) { c.wwwURL = strings.TrimRight(strings.TrimSpace(u), "/") }
}

// WithDevicePollInterval sets the interval PollDeviceToken starts with
// (default 5 s, like the SDKs, which ignore the server's interval). Tests use
// a shorter one against a server started with a shorter poll interval.
func WithDevicePollInterval(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.devicePoll = d
		}
	}
}

// OAuthToken is a token endpoint's success response (WIRE.md §3.4).
type OAuthToken struct {
	AccessToken string `json:"access_token"`
	// RefreshToken is empty for the JWT grant.
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type,omitempty"`
	// ExpiresIn is the absolute Unix time (seconds) at which the access token
	// expires, not a duration (WIRE.md §3.4).
	ExpiresIn int64 `json:"expires_in"`
}

// ExpiresAt returns ExpiresIn as a time.
func (t *OAuthToken) ExpiresAt() time.Time { return time.Unix(t.ExpiresIn, 0) }

// AuthError is an OAuth error answered by a token or device-code endpoint in
// the WIRE.md §3.5 shape {"error", "error_code", "error_message"}. Test the
// code with errors.As or IsAuthError:
//
//	var ae *client.AuthError
//	if errors.As(err, &ae) && ae.Code == client.ErrCodeInvalidGrant { … }
type AuthError struct {
	// HTTPStatus is the response's HTTP status (400, or 401 for invalid_client).
	HTTPStatus int
	// Code is the body's error_code (else its error), e.g. "invalid_grant";
	// empty when the response carried neither (a bare HTTP error).
	Code string
	// Message is the body's error_message (else error_description), or a
	// description of what was wrong with the response.
	Message string
	// Param is the body's error field (the RFC name; the same as Code from
	// cozeauth and the Coze cloud).
	Param string
	// LogID is the X-Tt-Logid response header.
	LogID string
}

func (e *AuthError) Error() string {
	var b strings.Builder
	b.WriteString("coze oauth: ")
	if e.Code != "" {
		b.WriteString(e.Code + ": ")
	}
	fmt.Fprintf(&b, "%s (HTTP %d", e.Message, e.HTTPStatus)
	if e.LogID != "" {
		b.WriteString(", logid " + e.LogID)
	}
	b.WriteString(")")
	return b.String()
}

// IsAuthError reports whether err is an *AuthError with the given code.
func IsAuthError(err error, code string) bool {
	var ae *AuthError
	return errors.As(err, &ae) && ae.Code == code
}

// ---------------------------------------------------------------- browser URLs

// AuthURLOptions are the optional parts of an authorization URL.
type AuthURLOptions struct {
	// WorkspaceID, when set, uses the workspace_id/{id}/authorize variant: the
	// grant is limited to that workspace.
	WorkspaceID string
}

func (c *Client) authorizeURL(q url.Values, opts *AuthURLOptions) string {
	base := c.wwwURL
	if base == "" {
		base = c.baseURL
	}
	p := pathAuthorize
	if opts != nil && opts.WorkspaceID != "" {
		p = "/api/permission/oauth2/workspace_id/" + url.PathEscape(opts.WorkspaceID) + "/authorize"
	}
	return base + p + "?" + q.Encode()
}

func authQuery(clientID, redirectURI, state string) url.Values {
	q := url.Values{"response_type": {"code"}}
	if clientID != "" {
		q.Set("client_id", clientID)
	}
	if redirectURI != "" {
		q.Set("redirect_uri", redirectURI)
	}
	if state != "" { // like coze-go: omitted when empty (WIRE.md §3.1)
		q.Set("state", state)
	}
	return q
}

// OAuthURL returns the page to send the user's browser to for the Web
// (client secret) flow: GET {www}/api/permission/oauth2/authorize?… or, with
// opts.WorkspaceID, the workspace_id/{id}/authorize variant. The browser comes
// back to redirectURI?code=…&state=….
func (c *Client) OAuthURL(clientID, redirectURI, state string, opts *AuthURLOptions) string {
	return c.authorizeURL(authQuery(clientID, redirectURI, state), opts)
}

// PKCE challenge methods.
const (
	PKCES256  = "S256"
	PKCEPlain = "plain"
)

// PKCEOptions are the optional parts of a PKCE authorization URL.
type PKCEOptions struct {
	AuthURLOptions
	// Method is PKCES256 (default) or PKCEPlain.
	Method string
	// Verifier is the code verifier to use; empty generates 32 random bytes,
	// base64url-encoded (43 characters, RFC 7636 §4.1).
	Verifier string
}

// PKCEAuthURL is a PKCE authorization URL and the verifier to keep until the
// code exchange.
type PKCEAuthURL struct {
	URL          string
	CodeVerifier string
	Method       string
}

// PKCEURL returns the authorization URL of the PKCE flow (RFC 7636) with a
// fresh code verifier; pass the verifier to ExchangeCodePKCE.
func (c *Client) PKCEURL(clientID, redirectURI, state string, opts *PKCEOptions) (*PKCEAuthURL, error) {
	var o PKCEOptions
	if opts != nil {
		o = *opts
	}
	if o.Method == "" {
		o.Method = PKCES256
	}
	if o.Verifier == "" {
		v, err := randomString(32)
		if err != nil {
			return nil, err
		}
		o.Verifier = v
	}
	var challenge string
	switch o.Method {
	case PKCES256:
		challenge = S256Challenge(o.Verifier)
	case PKCEPlain:
		challenge = o.Verifier
	default:
		return nil, fmt.Errorf("coze oauth: unknown PKCE method %q; use S256 or plain", o.Method)
	}
	q := authQuery(clientID, redirectURI, state)
	q.Set("code_challenge", challenge)
	q.Set("code_challenge_method", o.Method)
	return &PKCEAuthURL{URL: c.authorizeURL(q, &o.AuthURLOptions), CodeVerifier: o.Verifier, Method: o.Method}, nil
}

// S256Challenge is the PKCE S256 transform: base64url(SHA-256(verifier)),
// without padding.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("coze oauth: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("coze oauth: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ---------------------------------------------------------------- token calls

type tokenBody struct {
	ClientID     string `json:"client_id,omitempty"`
	GrantType    string `json:"grant_type"`
	Code         string `json:"code,omitempty"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	DeviceCode   string `json:"device_code,omitempty"`
}

// ExchangeCode exchanges an authorization code of the Web flow for tokens,
// authenticating with the client secret as the bearer credential (WIRE.md
// §3.2). redirectURI must be the one of the authorization request.
func (c *Client) ExchangeCode(ctx context.Context, clientID, clientSecret, code, redirectURI string) (*OAuthToken, error) {
	return c.postToken(ctx, pathToken, clientSecret, tokenBody{
		ClientID: clientID, GrantType: GrantTypeAuthorizationCode, Code: code, RedirectURI: redirectURI,
	})
}

// ExchangeCodePKCE exchanges an authorization code of the PKCE flow for
// tokens; a public client sends no credential, only the code verifier.
func (c *Client) ExchangeCodePKCE(ctx context.Context, clientID, code, redirectURI, verifier string) (*OAuthToken, error) {
	return c.postToken(ctx, pathToken, "", tokenBody{
		ClientID: clientID, GrantType: GrantTypeAuthorizationCode, Code: code, RedirectURI: redirectURI, CodeVerifier: verifier,
	})
}

// Refresh exchanges a refresh token for a new token pair; the old refresh
// token is spent (rotation). clientSecret is the Web app's secret, "" for
// public (PKCE, device) clients.
func (c *Client) Refresh(ctx context.Context, clientID, clientSecret, refreshToken string) (*OAuthToken, error) {
	return c.postToken(ctx, pathToken, clientSecret, tokenBody{
		ClientID: clientID, GrantType: GrantTypeRefreshToken, RefreshToken: refreshToken,
	})
}

// postToken posts body to a token path; bearer "" sends no Authorization
// header (what coze-py does for public clients).
func (c *Client) postToken(ctx context.Context, path, bearer string, body any) (*OAuthToken, error) {
	var tok OAuthToken
	if err := c.postOAuth(ctx, path, bearer, body, &tok); err != nil {
		return nil, err
	}
	if tok.AccessToken == "" {
		return nil, &AuthError{HTTPStatus: http.StatusOK, Message: "token response has no access_token"}
	}
	return &tok, nil
}

// oauthErrorBody is every field an OAuth endpoint's error may carry: the
// WIRE.md §3.5 shape, and the OpenAPI envelope's code/msg.
type oauthErrorBody struct {
	Error            string `json:"error"`
	ErrorCode        string `json:"error_code"`
	ErrorMessage     string `json:"error_message"`
	ErrorDescription string `json:"error_description"`
	Code             *int   `json:"code"`
	Msg              string `json:"msg"`
}

// postOAuth sends one JSON request to an OAuth endpoint and decodes the
// top-level JSON success body into out, or returns an *AuthError (an
// *APIError for a body with a non-zero OpenAPI code).
func (c *Client) postOAuth(ctx context.Context, path, bearer string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("coze oauth: encoding the request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("coze oauth: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json; charset=utf-8")
	hr.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	if bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return fmt.Errorf("coze oauth: POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("coze oauth: POST %s: reading the response (HTTP %d): %w", path, resp.StatusCode, err)
	}
	ae := &AuthError{HTTPStatus: resp.StatusCode, LogID: resp.Header.Get("X-Tt-Logid")}
	if len(raw) > maxResponse {
		ae.Message = fmt.Sprintf("response body is larger than %d bytes", maxResponse)
		return ae
	}
	if ct := resp.Header.Get("Content-Type"); !isJSON(ct) {
		ae.Message = fmt.Sprintf("response is not JSON (Content-Type %q): %s", ct, snippet(raw))
		return ae
	}
	var eb oauthErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil {
		ae.Message = fmt.Sprintf("response is not a JSON object (%v): %s", err, snippet(raw))
		return ae
	}
	if eb.ErrorCode != "" || eb.Error != "" {
		ae.Code, ae.Param = eb.ErrorCode, eb.Error
		if ae.Code == "" {
			ae.Code = eb.Error
		}
		ae.Message = eb.ErrorMessage
		if ae.Message == "" {
			ae.Message = eb.ErrorDescription
		}
		if ae.Message == "" {
			ae.Message = "(no message)"
		}
		return ae
	}
	if eb.Code != nil && *eb.Code != 0 {
		msg := eb.Msg
		if msg == "" {
			msg = "(no message)"
		}
		return &APIError{HTTPStatus: resp.StatusCode, Code: *eb.Code, Msg: msg, LogID: ae.LogID}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae.Message = fmt.Sprintf("%s: %s", http.StatusText(resp.StatusCode), snippet(raw))
		return ae
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("coze oauth: decoding the response (logid %s): %w", ae.LogID, err)
	}
	return nil
}

// ---------------------------------------------------------------- device flow

// DeviceAuth is a device authorization response (WIRE.md §3.4): show the user
// VerificationURI and UserCode (or VerificationURL, which has the code
// pre-filled), then call PollDeviceToken with DeviceCode.
type DeviceAuth struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	// VerificationURL is VerificationURI with ?user_code=… (built by the
	// client, like coze-go and coze-py).
	VerificationURL string `json:"verification_url"`
	// ExpiresIn is the absolute Unix time (seconds) the device code expires.
	ExpiresIn int64 `json:"expires_in"`
	// Interval is the polling interval the server announced, in seconds.
	Interval int64 `json:"interval"`
}

// DeviceCode starts the device flow: POST
// /api/permission/oauth2[/workspace_id/{id}]/device/code. workspaceID ""
// uses the plain path; otherwise the grant is limited to that workspace.
func (c *Client) DeviceCode(ctx context.Context, clientID, workspaceID string) (*DeviceAuth, error) {
	path := pathDeviceCode
	if workspaceID != "" {
		path = "/api/permission/oauth2/workspace_id/" + url.PathEscape(workspaceID) + "/device/code"
	}
	var d DeviceAuth
	if err := c.postOAuth(ctx, path, "", map[string]string{"client_id": clientID}, &d); err != nil {
		return nil, err
	}
	if d.DeviceCode == "" || d.UserCode == "" || d.VerificationURI == "" {
		return nil, &AuthError{HTTPStatus: http.StatusOK, Message: "device code response lacks device_code, user_code or verification_uri"}
	}
	d.VerificationURL = d.VerificationURI + "?user_code=" + url.QueryEscape(d.UserCode)
	return &d, nil
}

// PollDeviceToken asks for the device flow's token. Without poll it asks once
// (authorization_pending and slow_down come back as *AuthError). With poll it
// behaves like the SDKs (WIRE.md §6.2): the first request at once; on
// authorization_pending it waits the interval (5 s, or WithDevicePollInterval)
// and asks again; on slow_down it first adds 5 s to the interval while it is
// below 30 s; any other error (access_denied, expired_token, …) is returned.
// ctx bounds the whole polling.
func (c *Client) PollDeviceToken(ctx context.Context, clientID, deviceCode string, poll bool) (*OAuthToken, error) {
	interval := c.devicePoll
	if interval <= 0 {
		interval = defaultDevicePollInterval
	}
	for {
		tok, err := c.postToken(ctx, pathToken, "", tokenBody{
			ClientID: clientID, GrantType: GrantTypeDeviceCode, DeviceCode: deviceCode,
		})
		if err == nil || !poll {
			return tok, err
		}
		switch {
		case IsAuthError(err, ErrCodeAuthorizationPending):
		case IsAuthError(err, ErrCodeSlowDown):
			if interval < maxDevicePollInterval {
				interval += slowDownStep
			}
		default:
			return nil, err
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("coze oauth: polling for the device token: %w", ctx.Err())
		case <-t.C:
		}
	}
}
