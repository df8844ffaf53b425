package oauth

import (
	"context"
	"errors"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/store"
)

// refreshGrant rotates a refresh token (RFC 6749 §6, RFC 9700 §4.14.2):
// every use returns a new pair, and reuse of a rotated token revokes the
// whole family.
type refreshGrant struct{}

func (refreshGrant) handle(ctx context.Context, s *Service, req *tokenRequest) (tokenResponse, error) {
	if req.RefreshToken == "" {
		return tokenResponse{}, ErrInvalidRequest("refresh_token is required")
	}
	app, err := s.authenticateClient(ctx, req, true)
	if err != nil {
		return tokenResponse{}, err
	}
	now := s.Now().Unix()
	hash := credential.Hash(req.RefreshToken)
	old, err := s.Store.GetOAuthTokenByHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && old.Kind != store.TokenRefresh):
		return tokenResponse{}, ErrInvalidGrant("unknown refresh token")
	case err != nil:
		return tokenResponse{}, err
	case old.AppID != app.ID:
		return tokenResponse{}, ErrInvalidGrant("refresh token was issued to another client")
	case old.RevokedAt != 0:
		return tokenResponse{}, ErrInvalidGrant("refresh token revoked")
	case now >= old.ExpiresAt:
		return tokenResponse{}, ErrInvalidGrant("refresh token expired")
	}
	g, ok, err := s.grantByID(ctx, old.GrantID)
	if err != nil {
		return tokenResponse{}, err
	}
	if !ok {
		return tokenResponse{}, ErrInvalidGrant("the authorization was revoked")
	}
	out := s.mint(g, old.FamilyID, true, 0, scopeOf(old))
	err = s.Store.RotateRefresh(ctx, hash, now, out.accessRec, out.refreshRec)
	switch {
	case errors.Is(err, store.ErrUsed):
		return tokenResponse{}, ErrInvalidGrant("refresh token reuse detected; every token of this authorization was revoked")
	case errors.Is(err, store.ErrRevoked):
		return tokenResponse{}, ErrInvalidGrant("refresh token revoked")
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, ErrInvalidGrant("unknown refresh token")
	case err != nil:
		return tokenResponse{}, err
	}
	return out.response(), nil
}
