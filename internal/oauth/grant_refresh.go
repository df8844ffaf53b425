package oauth

import (
	"context"
	"errors"
	"time"

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
	var sealErr error
	// Atomically: read the old token and its grant, check them, rotate the
	// token and store the new pair. The callback may run while a
	// transaction holds a connection, so it calls nothing that reads the
	// store.
	retry, err := s.Store.RotateRefresh(ctx, credential.Hash(req.RefreshToken), now, int64(s.Lifetimes.RefreshRetry/time.Second),
		func(old store.OAuthToken, g store.Grant) (store.Rotation, error) {
			switch {
			case old.AppID != app.ID:
				return store.Rotation{}, ErrInvalidGrant("refresh token was issued to another client")
			case now >= old.ExpiresAt:
				return store.Rotation{}, ErrInvalidGrant("refresh token expired")
			}
			out = s.mint(g, old.FamilyID, true, 0, scopeOf(old))
			rot := store.Rotation{Access: out.accessRec, Refresh: out.refreshRec}
			if s.Lifetimes.RefreshRetry > 0 {
				rot.Retry, sealErr = sealRetry(req.RefreshToken, out.response())
				if sealErr != nil {
					return store.Rotation{}, sealErr
				}
			}
			return rot, nil
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
	case retry != "":
		// The same request again within the window, its new token unused:
		// the client lost the first answer; give it that answer again.
		resp, err := openRetry(req.RefreshToken, retry)
		if err != nil {
			return tokenResponse{}, err
		}
		return resp, nil
	}
	return out.response(), nil
}
