package oauth

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/store"
)

// revokeRequest is the RFC 7009 §2.1 body, as JSON (like /token, WIRE.md §2)
// or a form.
type revokeRequest struct {
	Token string `json:"token"`
	// TokenTypeHint is accepted and ignored: the token's prefix says what it
	// is (RFC 7009 §2.1 lets the server ignore the hint).
	TokenTypeHint string `json:"token_type_hint"`
	ClientID      string `json:"client_id"`
}

// Revoke serves POST /api/permission/oauth2/revoke (RFC 7009). The client
// authenticates as on /token; then the answer is 200 whatever the token was
// (§2.2: unknown, expired, already revoked, or another client's, which is
// left alone), so the endpoint tells nobody whether a token exists. A refresh
// token revokes its whole family (every access and refresh token issued from
// the same authorization code or device code, through all rotations); an
// access token revokes only itself, so a leaked access token can be killed
// without signing the user out. PATs and SATs are not client tokens and are
// revoked in the console or the admin CLI. The revision advances, so every
// replica drops the token within its revision poll; this one at once.
func (s *Service) Revoke(w http.ResponseWriter, r *http.Request) {
	var body revokeRequest
	if err := decodeBody(r, &body); err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	app, err := s.authenticateRevoker(r.Context(), &tokenRequest{ClientID: body.ClientID, bearer: bearerCredential(r)})
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	if body.Token == "" {
		WriteError(w, r, s.Log, ErrInvalidRequest("token is required"))
		return
	}
	revoked, err := s.revoke(r.Context(), app, body.Token)
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	if revoked != "" {
		s.Log.InfoContext(r.Context(), "token revoked", "client_id", app.ClientID, "what", revoked, "logid", logid.From(r.Context()))
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// authenticateRevoker authenticates the client as /token does: a web app
// with its client secret (or none when it may refresh without one), a PKCE or
// device app by its client_id alone (RFC 7009 §5: a public client proves
// nothing but possession of the token), a service app with a signed JWT as
// the bearer credential. The JWT's jti is not spent: replaying a revocation
// does nothing more.
func (s *Service) authenticateRevoker(ctx context.Context, req *tokenRequest) (store.App, error) {
	if req.ClientID != "" {
		app, ok, err := s.appByClientID(ctx, req.ClientID)
		if err != nil {
			return store.App{}, err
		}
		if !ok || app.ClientType != store.ClientService {
			return s.authenticateClient(ctx, req, true)
		}
	} else if strings.Count(req.bearer, ".") != 2 {
		// Not a JWT: a client without its client_id.
		return store.App{}, ErrInvalidRequest("client_id is required")
	}
	if req.bearer == "" {
		return store.App{}, ErrInvalidClient("a service app authenticates with a signed JWT (Authorization: Bearer <jwt>)")
	}
	_, app, err := s.verifyJWT(ctx, req.bearer)
	if err != nil {
		return store.App{}, err
	}
	if req.ClientID != "" && req.ClientID != app.ClientID {
		return store.App{}, ErrInvalidClient("client_id does not match the JWT issuer")
	}
	return app, nil
}

// revoke revokes token if it is a live OAuth token of app and says what it
// revoked ("" when nothing). The record is read from the store, not a cache.
func (s *Service) revoke(ctx context.Context, app store.App, token string) (string, error) {
	var kind store.TokenKind
	switch {
	case IsAccessToken(token):
		kind = store.TokenAccess
	case strings.HasPrefix(token, PrefixRefresh):
		kind = store.TokenRefresh
	default:
		return "", nil
	}
	h := credential.Hash(token)
	t, err := s.Store.GetOAuthTokenByHash(ctx, h)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", nil
	case err != nil:
		return "", err
	case t.Kind != kind || !credential.HashesEqual(t.Hash, h):
		return "", nil
	case t.AppID != app.ID:
		// RFC 7009 §2.1: the server verifies the token was issued to the
		// requesting client; another client's token is not touched.
		s.Log.InfoContext(ctx, "revocation of another client's token refused", "client_id", app.ClientID, "token_id", t.ID)
		return "", nil
	}
	now := s.Now().Unix()
	if t.RevokedAt != 0 || now >= t.ExpiresAt {
		// Dead already (a revoked refresh token's family was revoked with
		// it); no write, so replaying old tokens cannot churn the caches.
		return "", nil
	}
	// The client (not a user) acts here: the event names the app.
	ev := store.NewAuditEvent(ctx, now, "token.revoke", "app", app.ID, "", map[string]any{
		"client_id": app.ClientID, "token_id": t.ID, "token_kind": t.Kind, "family_id": t.FamilyID, "grant_id": t.GrantID})
	ev.ActorID, ev.ActorType = app.ID, store.ActorApp
	if app.Owner.Type == store.OwnerEnterprise {
		ev.EnterpriseID = app.Owner.ID
	}
	ctx = store.WithAudit(ctx, ev)
	if kind == store.TokenRefresh {
		// Also a rotated refresh token: its family lives on in the newer
		// tokens, and presenting it is reason enough to end them.
		if err := s.Store.RevokeTokenFamily(ctx, t.FamilyID, now); err != nil {
			return "", err
		}
		s.gen.Invalidate()
		return "refresh token family " + t.FamilyID, nil
	}
	if err := s.Store.RevokeOAuthToken(ctx, t.ID, now); err != nil {
		return "", err
	}
	s.gen.Invalidate()
	return "access token " + t.ID, nil
}
