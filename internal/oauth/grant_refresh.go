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
	var out issued
	// One transaction: read the old token and its grant, check them, rotate
	// the token and store the new pair. The callback runs while the
	// transaction holds a connection, so it calls nothing that reads the
	// store.
	err = s.Store.RotateRefresh(ctx, credential.Hash(req.RefreshToken), now, func(old store.OAuthToken, g store.Grant) (store.OAuthToken, store.OAuthToken, error) {
		switch {
		case old.AppID != app.ID:
			return old, old, ErrInvalidGrant("refresh token was issued to another client")
		case now >= old.ExpiresAt:
			return old, old, ErrInvalidGrant("refresh token expired")
		}
		out = s.mint(g, old.FamilyID, true, 0, scopeOf(old))
		return out.accessRec, out.refreshRec, nil
	})
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
