package oauth

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

// maxBody bounds /token and /device/code bodies.
const maxBody = 64 << 10

// decodeBody reads a JSON body (what every Coze SDK sends, WIRE.md §2) or an
// RFC 6749 form body into dst.
func decodeBody(r *http.Request, dst any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return ErrInvalidRequest("could not read the request body")
	}
	if len(b) > maxBody {
		return ErrInvalidRequest("request body is larger than %d bytes", maxBody)
	}
	// Media types are case-insensitive (RFC 9110 §8.3.1).
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return ErrInvalidRequest("malformed form body")
		}
		m := map[string]string{}
		for k := range form {
			m[k] = form.Get(k)
		}
		b, _ = json.Marshal(m)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return ErrInvalidRequest("request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return ErrInvalidRequest("request body is not valid JSON: %v", err)
	}
	return nil
}

// tokenRequest is the union of every grant's body fields (WIRE.md §3.2).
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	ClientID     string `json:"client_id"`
	Code         string `json:"code"`
	RedirectURI  string `json:"redirect_uri"`
	CodeVerifier string `json:"code_verifier"`
	RefreshToken string `json:"refresh_token"`
	DeviceCode   string `json:"device_code"`
	// JWT grant.
	DurationSeconds *int64          `json:"duration_seconds"`
	Scope           json.RawMessage `json:"scope"`
	AccountID       json.RawMessage `json:"account_id"`
	EnterpriseID    string          `json:"enterprise_id"`

	// From the request, not the body.
	bearer         string // the Authorization credential; "" when absent or empty
	pathAccount    string // account/{account_id}/token
	pathEnterprise string // enterprise_id/{enterprise_id}/token
}

// grant is one grant type of the /token pipeline.
type grant interface {
	// handle authenticates the client as its flow requires, checks the grant
	// and returns the token response.
	handle(ctx context.Context, s *Service, req *tokenRequest) (tokenResponse, error)
}

// Grant type names (WIRE.md §4.1).
const (
	GrantTypeAuthorizationCode = "authorization_code"
	GrantTypeRefreshToken      = "refresh_token"
	GrantTypeDeviceCode        = "urn:ietf:params:oauth:grant-type:device_code"
	GrantTypeJWTBearer         = "urn:ietf:params:oauth:grant-type:jwt-bearer"
)

var grants = map[string]grant{
	GrantTypeAuthorizationCode: codeGrant{},
	GrantTypeRefreshToken:      refreshGrant{},
	GrantTypeDeviceCode:        deviceGrant{},
	GrantTypeJWTBearer:         jwtGrant{},
}

// grantLabel names a grant type for metrics: the four known ones by their
// short names, anything else as "other" (the label set stays bounded).
func grantLabel(grantType string) string {
	switch grantType {
	case GrantTypeAuthorizationCode:
		return "authorization_code"
	case GrantTypeRefreshToken:
		return "refresh_token"
	case GrantTypeDeviceCode:
		return "device_code"
	case GrantTypeJWTBearer:
		return "jwt_bearer"
	case "":
		return "none"
	}
	return "other"
}

// outcomeWriter lets WriteError report the error code it answered to
// Service.OnToken.
type outcomeWriter struct {
	http.ResponseWriter
	outcome *string
}

func (w *outcomeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bearerCredential returns the Authorization header's bearer credential; an
// absent header, "Bearer", "Bearer " or blanks mean none (WIRE.md §3.2).
func bearerCredential(r *http.Request) string {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// Token serves POST /api/permission/oauth2/token and its account/{id} and
// enterprise_id/{id} variants: parse, dispatch to the grant, write the result.
func (s *Service) Token(w http.ResponseWriter, r *http.Request) {
	req := &tokenRequest{}
	if s.OnToken != nil {
		// The outcome is "issued" or the error code the client got.
		outcome := "issued"
		w = &outcomeWriter{ResponseWriter: w, outcome: &outcome}
		defer func() { s.OnToken(grantLabel(req.GrantType), outcome) }()
	}
	if err := decodeBody(r, req); err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	req.bearer = bearerCredential(r)
	if ok, wait := allow(s.Now(), s.Limits.TokenIP, s.Limits.TokenClient, s.Limits.ip(r), tokenClient(req)); !ok {
		code := "temporarily_unavailable"
		if req.GrantType == GrantTypeDeviceCode {
			code = "slow_down"
		}
		WriteError(w, r, s.Log, errRateLimited(code, wait))
		return
	}
	req.pathAccount = r.PathValue("account_id")
	req.pathEnterprise = r.PathValue("enterprise_id")
	if req.GrantType == "" {
		WriteError(w, r, s.Log, ErrInvalidRequest("grant_type is required"))
		return
	}
	g, ok := grants[req.GrantType]
	if !ok {
		WriteError(w, r, s.Log, ErrUnsupportedGrantType("grant_type %q is not supported", req.GrantType))
		return
	}
	if (req.pathAccount != "" || req.pathEnterprise != "") && req.GrantType != GrantTypeJWTBearer {
		WriteError(w, r, s.Log, ErrInvalidRequest("the account and enterprise token paths are for the JWT grant only"))
		return
	}
	resp, err := g.handle(r.Context(), s, req)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// authenticateClient finds the app named by client_id and, when it is
// confidential, authenticates it with its client secret sent as the bearer
// credential (RFC 6749 §3.2.1, WIRE.md §3.2). A public client's empty bearer
// is no credential and is never refused. refresh: the app may allow refresh
// without its secret (cozeauth policy, off by default).
func (s *Service) authenticateClient(ctx context.Context, req *tokenRequest, refresh bool) (store.App, error) {
	if req.ClientID == "" {
		return store.App{}, ErrInvalidRequest("client_id is required")
	}
	app, ok, err := s.appByClientID(ctx, req.ClientID)
	if err != nil {
		return store.App{}, err
	}
	if !ok {
		return store.App{}, ErrInvalidClient("unknown client_id %q", req.ClientID)
	}
	if !app.Active {
		return store.App{}, ErrInvalidClient("this app is deactivated")
	}
	if app.ClientType.Confidential() {
		if req.bearer == "" {
			if refresh && app.AllowRefreshWithoutSecret {
				return app, nil
			}
			return store.App{}, ErrInvalidClient("this app must authenticate with its client secret (Authorization: Bearer <client_secret>)")
		}
		if err := s.checkSecret(ctx, app, req.bearer); err != nil {
			return store.App{}, err
		}
	}
	return app, nil
}
