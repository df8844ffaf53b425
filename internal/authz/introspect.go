package authz

import (
	"context"
	"errors"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Token types as introspection names them (RFC 7662 §2.2 token_type; the
// OAuth ones are RFC 7009's type hints).
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
	TokenTypePAT     = "pat"
	TokenTypeSAT     = "sat"
)

// TokenInfo describes a token for introspection.
type TokenInfo struct {
	// Cred is the token as the decision sees it: its account, user,
	// permissions (the effective ones), workspaces, expiry and liveness.
	Cred permission.Credential
	Type string // one of the TokenType constants
	// ClientID and AppOwner are set for OAuth tokens: the app the token was
	// issued to and the account that owns the app.
	ClientID string
	AppOwner store.Owner
	IssuedAt int64
}

// Subject is what the token acts as (RFC 7662 sub): the person when it acts
// for one; otherwise a SAT's own ID (its service identity, as /v1/users/me
// answers) or, for an app acting as itself, the app's client ID.
func (t *TokenInfo) Subject() string {
	switch {
	case t.Cred.UserID != "":
		return t.Cred.UserID
	case t.ClientID != "":
		return t.ClientID
	}
	return t.Cred.ID
}

// TokenInspector describes tokens of one credential kind (OAuth access and
// refresh tokens). ok is false when the token is not of its kind or unknown.
type TokenInspector interface {
	InspectToken(ctx context.Context, token string) (info *TokenInfo, ok bool, err error)
}

// Introspect describes token when it is active: known, not expired, revoked
// or deactivated, and its user still a member of its account (decision step
// 1, exactly as a request with it would be judged). ok is false for anything
// inactive; store failures are returned as errors.
func (a *Authorizer) Introspect(ctx context.Context, token string) (*TokenInfo, bool, error) {
	info, ok, err := a.inspect(ctx, token)
	if err != nil || !ok {
		return nil, false, err
	}
	facts, err := a.Facts.Base(ctx, &info.Cred)
	if err != nil {
		return nil, false, err
	}
	if !permission.Decide(a.Now().Unix(), &info.Cred, nil, facts).OK() {
		return nil, false, nil
	}
	return info, true, nil
}

func (a *Authorizer) inspect(ctx context.Context, token string) (*TokenInfo, bool, error) {
	for _, in := range a.Inspectors {
		info, ok, err := in.InspectToken(ctx, token)
		if err != nil || ok {
			return info, ok, err
		}
	}
	kind, isCred := credential.KindOf(token)
	if !isCred {
		return nil, false, nil
	}
	// Verify records a use: a resource server introspects a PAT because its
	// holder just presented it there.
	v, err := a.Verifier.Verify(ctx, token, a.Now().Unix())
	if errors.Is(err, credential.ErrUnknownToken) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	typ := TokenTypePAT
	if kind == store.KindSAT {
		typ = TokenTypeSAT
	}
	return &TokenInfo{Cred: v.View, Type: typ, IssuedAt: v.Record.CreatedAt}, true, nil
}
