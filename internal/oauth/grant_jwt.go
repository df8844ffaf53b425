package oauth

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/store"
)

// JWT grant limits (WIRE.md §4.3, §4.5).
const (
	defaultJWTDuration = 900
	maxJWTDuration     = 86399
	jwtLeeway          = 60 * time.Second
	maxJTILen          = 256
)

// jwtGrant is the JWT bearer grant of Service apps (RFC 7523 as Coze uses
// it: the signed JWT is the bearer credential, WIRE.md §3.2, §4.5).
type jwtGrant struct{}

type jwtClaims struct {
	jwt.RegisteredClaims
	SessionName string `json:"session_name,omitempty"`
}

// jwtScope is the scope object of WIRE.md §4.4; every level may be null or absent.
type jwtScope struct {
	AccountPermission *struct {
		// A pointer tells "permission_list": [] (no permissions) from null or
		// absent (no narrowing).
		PermissionList *[]string `json:"permission_list"`
	} `json:"account_permission"`
	AttributeConstraint *struct {
		ConnectorBotChatAttribute *struct {
			BotIDList []string `json:"bot_id_list"`
		} `json:"connector_bot_chat_attribute"`
	} `json:"attribute_constraint"`
}

func (jwtGrant) handle(ctx context.Context, s *Service, req *tokenRequest) (tokenResponse, error) {
	if req.bearer == "" {
		return tokenResponse{}, ErrInvalidClient("send the signed JWT as the bearer credential (Authorization: Bearer <jwt>)")
	}
	claims, app, err := s.verifyJWT(ctx, req.bearer)
	if err != nil {
		return tokenResponse{}, err
	}
	if req.ClientID != "" && req.ClientID != app.ClientID {
		return tokenResponse{}, ErrInvalidClient("client_id does not match the JWT issuer")
	}
	duration := int64(defaultJWTDuration)
	if req.DurationSeconds != nil {
		duration = *req.DurationSeconds
		if duration < 1 || duration > maxJWTDuration {
			return tokenResponse{}, ErrInvalidRequest("duration_seconds must be from 1 to %d, got %d", maxJWTDuration, duration)
		}
	}
	owner, err := s.jwtAccount(app, req)
	if err != nil {
		return tokenResponse{}, err
	}
	narrow, err := parseJWTScope(req.Scope, app)
	if err != nil {
		return tokenResponse{}, err
	}
	narrow.sessionName = claims.SessionName
	g, ok, err := s.appAuthGrant(ctx, app.ID, owner)
	if err == nil && !ok && owner.Type == store.OwnerPersonal {
		// A personal account ID from before account IDs became user IDs
		// still gets tokens, which name the account by its ID of today.
		var u store.User
		if u, err = s.Store.GetUserByAccountAlias(ctx, owner.ID); err == nil {
			owner = u.Account()
			g, ok, err = s.appAuthGrant(ctx, app.ID, owner)
		} else if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
	}
	if err != nil {
		return tokenResponse{}, err
	}
	if !ok {
		if err := s.accountExists(ctx, owner); err != nil {
			return tokenResponse{}, err
		}
		if owner.Type == store.OwnerEnterprise {
			return tokenResponse{}, ErrInvalidGrant("the app is not installed in enterprise %s", owner.ID)
		}
		return tokenResponse{}, ErrInvalidGrant("account %s has not authorized this app", owner.ID)
	}
	// The jti is spent with the token, in one transaction, once the request
	// is otherwise good, so a rejected request does not burn it (RFC 7523 §3
	// item 7).
	out := s.mint(g, "", false, duration, narrow)
	// The JWT is accepted until exp + leeway, so its jti is kept that long.
	err = s.Store.CreateOAuthTokensForJTI(ctx, app.ID, claims.ID, claims.ExpiresAt.Add(jwtLeeway).Unix(), out.accessRec)
	if errors.Is(err, store.ErrAlreadyExists) {
		return tokenResponse{}, ErrInvalidGrant("the JWT was used before (jti %q); sign a new one", claims.ID)
	} else if err != nil {
		return tokenResponse{}, err
	}
	return out.response(), nil
}

// verifyJWT checks the assertion per WIRE.md §4.5: the app from iss, the key
// from kid, RS256 only, exp required and iat not in the future (small skew),
// a lenient aud, a jti.
func (s *Service) verifyJWT(ctx context.Context, raw string) (*jwtClaims, store.App, error) {
	var app store.App
	keyfunc := func(t *jwt.Token) (any, error) {
		if _, ok := t.Header["crit"]; ok {
			// RFC 7515 §4.1.11: extensions we do not understand must be refused.
			return nil, errors.New("the crit header names extensions this server does not support")
		}
		c, _ := t.Claims.(*jwtClaims)
		iss := ""
		if c != nil {
			iss = c.Issuer
		}
		if iss == "" {
			return nil, errors.New("no iss (the app's client ID)")
		}
		a, ok, err := s.appByClientID(ctx, iss)
		if err != nil {
			return nil, &storeError{err}
		}
		if !ok {
			return nil, fmt.Errorf("unknown issuer %q", iss)
		}
		app = a
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid (the public key ID) in the JWT header")
		}
		return s.publicKey(ctx, a.ID, kid)
	}
	claims := &jwtClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, keyfunc,
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(jwtLeeway),
		jwt.WithTimeFunc(s.Now))
	if err != nil {
		var internal *storeError
		if errors.As(err, &internal) {
			return nil, app, internal.err
		}
		return nil, app, &Error{Code: "invalid_client", Description: "JWT rejected: " + jwtReason(err), Status: 401, Cause: err}
	}
	if err := checkTimeClaims(raw, claims, s.Now()); err != nil {
		return nil, app, ErrInvalidClient("JWT rejected: %v", err)
	}
	if !app.Active {
		return nil, app, ErrInvalidClient("this app is deactivated")
	}
	if app.ClientType != store.ClientService {
		return nil, app, ErrUnauthorizedClient("a %s app cannot use the JWT grant", app.ClientType)
	}
	if !s.audienceOK(claims.Audience) {
		return nil, app, ErrInvalidClient("JWT rejected: aud %v does not name this server", []string(claims.Audience))
	}
	if claims.ID == "" || len(claims.ID) > maxJTILen {
		return nil, app, ErrInvalidClient("JWT rejected: jti is required (at most %d characters)", maxJTILen)
	}
	return claims, app, nil
}

// checkTimeClaims: exp, iat and nbf must be JSON numbers (the JWT library
// also takes numeric strings) and exp at most the longest token lifetime
// (plus leeway) after iat (or now), so a signed assertion cannot be kept for
// years.
func checkTimeClaims(raw string, c *jwtClaims, now time.Time) error {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return errors.New("malformed JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return errors.New("malformed JWT payload")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(payload, &fields); err != nil {
		return errors.New("malformed JWT payload")
	}
	for _, name := range []string{"exp", "iat", "nbf"} {
		v, ok := fields[name]
		if !ok {
			continue
		}
		var n json.Number
		if len(v) == 0 || v[0] == '"' || json.Unmarshal(v, &n) != nil {
			return fmt.Errorf("%s must be a number of seconds", name)
		}
		if f, err := n.Float64(); err != nil || f < 0 || f > 1<<40 {
			return fmt.Errorf("%s is out of range", name)
		}
	}
	limit := time.Duration(maxJWTDuration)*time.Second + jwtLeeway
	from := now // every SDK sends iat; without it, bound exp from now
	if c.IssuedAt != nil {
		from = c.IssuedAt.Time
	}
	if c.ExpiresAt.Sub(from) > limit {
		return fmt.Errorf("exp is more than %d s after iat", maxJWTDuration)
	}
	if c.NotBefore != nil && c.NotBefore.After(c.ExpiresAt.Time) {
		return errors.New("nbf is after exp")
	}
	return nil
}

// storeError carries a store failure out of the jwt keyfunc unchanged, so an
// outage is a server error, not an invalid client.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }

func jwtReason(err error) string {
	switch {
	case strings.Contains(err.Error(), "signing method"):
		return "signing algorithm not allowed; use RS256"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "expired (exp)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "exp is required"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed JWT"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return strings.TrimPrefix(err.Error(), jwt.ErrTokenUnverifiable.Error()+": ")
	}
	return err.Error()
}

// publicKey returns the parsed public key kid of app, cached until the
// revision changes (deleting a key advances it).
func (s *Service) publicKey(ctx context.Context, appID, kid string) (*rsa.PublicKey, error) {
	return cache.Load(s.keys, [2]string{appID, kid}, func() (*rsa.PublicKey, error) {
		k, err := s.Store.GetAppKey(ctx, appID, kid)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("unknown kid %q for this app", kid)
		}
		if err != nil {
			return nil, &storeError{err}
		}
		return parsePublicKey(k.PublicKeyPEM)
	})
}

// appAuthGrant finds the AppAuth grant of app in owner, cached until the
// revision changes (granting and revoking advance it).
func (s *Service) appAuthGrant(ctx context.Context, appID string, owner store.Owner) (store.Grant, bool, error) {
	return cache.LoadFound(s.appAuth, appAuthKey{appID, owner}, func() (store.Grant, bool, error) {
		gs, err := s.Store.ListGrants(ctx, store.GrantFilter{AppID: appID, Kind: store.GrantAppAuth, Owner: owner})
		if err != nil || len(gs) == 0 {
			return store.Grant{}, false, err
		}
		return gs[0], true, nil
	})
}

// accountExists answers a clear error for an account or enterprise that
// does not exist.
func (s *Service) accountExists(ctx context.Context, owner store.Owner) error {
	var err error
	if owner.Type == store.OwnerEnterprise {
		_, err = s.Store.GetEnterprise(ctx, owner.ID)
	} else {
		_, err = s.Store.GetUserByAccountID(ctx, owner.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidGrant("%s account %s not found", owner.Type, owner.ID)
	}
	return err
}

// audienceOK accepts the public host with and without port and every
// configured alias (cozeauth policy, WIRE.md top).
func (s *Service) audienceOK(aud jwt.ClaimStrings) bool {
	accepted := slices.Clone(s.Audiences)
	if u, err := url.Parse(s.PublicURL); err == nil && u.Host != "" {
		accepted = append(accepted, u.Host, u.Hostname())
		if host, _, err := net.SplitHostPort(u.Host); err == nil {
			accepted = append(accepted, host)
		}
	}
	for _, a := range aud {
		a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(a, "https://"), "http://"), "/")
		if slices.Contains(accepted, a) {
			return true
		}
	}
	return false
}

// jwtAccount finds the account the token acts in: account/{id} and
// enterprise_id/{id} paths, else the app's owner. Body copies (Go SDK) must
// match the path.
func (s *Service) jwtAccount(app store.App, req *tokenRequest) (store.Owner, error) {
	bodyAccount := ""
	if len(req.AccountID) > 0 && !bytes.Equal(req.AccountID, []byte("null")) {
		var n json.Number
		var str string
		if err := json.Unmarshal(req.AccountID, &n); err == nil {
			bodyAccount = n.String()
		} else if err := json.Unmarshal(req.AccountID, &str); err == nil {
			bodyAccount = str
		} else {
			return store.Owner{}, ErrInvalidRequest("account_id must be a number or a string")
		}
	}
	switch {
	case req.pathAccount != "":
		if bodyAccount != "" && bodyAccount != req.pathAccount {
			return store.Owner{}, ErrInvalidRequest("account_id in the body does not match the path")
		}
		if _, err := strconv.ParseUint(req.pathAccount, 10, 64); err != nil {
			return store.Owner{}, ErrInvalidRequest("account id %q is not numeric", req.pathAccount)
		}
		return store.Owner{Type: store.OwnerPersonal, ID: req.pathAccount}, nil
	case req.pathEnterprise != "":
		if req.EnterpriseID != "" && req.EnterpriseID != req.pathEnterprise {
			return store.Owner{}, ErrInvalidRequest("enterprise_id in the body does not match the path")
		}
		return store.Owner{Type: store.OwnerEnterprise, ID: req.pathEnterprise}, nil
	}
	return app.Owner, nil
}

// parseJWTScope reads the narrowing scope; permissions must be among the
// app's declared ones.
func parseJWTScope(raw json.RawMessage, app store.App) (tokenScope, error) {
	var out tokenScope
	if len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return out, nil
	}
	var sc jwtScope
	if err := json.Unmarshal(raw, &sc); err != nil {
		return out, ErrInvalidScope("scope is not a valid object: %v", err)
	}
	if sc.AccountPermission != nil && sc.AccountPermission.PermissionList != nil {
		list := *sc.AccountPermission.PermissionList
		if len(list) == 0 {
			// An empty list would otherwise read as "no narrowing" and give
			// every permission of the app.
			return out, ErrInvalidScope("scope.account_permission.permission_list is empty; list the permissions the token needs, or leave it out for all of the app's")
		}
		for _, p := range list {
			if !slices.Contains(app.Permissions, p) {
				return out, ErrInvalidScope("permission %q is not declared by this app", p)
			}
		}
		out.permissions = slices.Compact(slices.Sorted(slices.Values(list)))
	}
	if sc.AttributeConstraint != nil && sc.AttributeConstraint.ConnectorBotChatAttribute != nil {
		out.botIDs = slices.Compact(slices.Sorted(slices.Values(sc.AttributeConstraint.ConnectorBotChatAttribute.BotIDList)))
	}
	return out, nil
}
