package oauth

import (
	"context"
	"errors"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/store"
)

// deviceGrant answers device polls (RFC 8628 §3.4–3.5, WIRE.md §6).
type deviceGrant struct{}

func (deviceGrant) handle(ctx context.Context, s *Service, req *tokenRequest) (tokenResponse, error) {
	if req.DeviceCode == "" {
		return tokenResponse{}, ErrInvalidRequest("device_code is required")
	}
	app, err := s.authenticateClient(ctx, req, false)
	if err != nil {
		return tokenResponse{}, err
	}
	now := s.Now().Unix()
	hash := credential.Hash(req.DeviceCode)
	d, prev, err := s.Store.PollDevice(ctx, hash, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, ErrInvalidGrant("unknown device code")
	case err != nil:
		return tokenResponse{}, err
	case d.AppID != app.ID:
		return tokenResponse{}, ErrInvalidGrant("device code was issued to another client")
	}
	switch d.Status {
	case store.DeviceRedeemed:
		return tokenResponse{}, ErrInvalidGrant("device code already used")
	case store.DeviceDenied:
		return tokenResponse{}, ErrAccessDenied("the user denied the authorization request")
	}
	if now >= d.ExpiresAt {
		return tokenResponse{}, errExpiredToken
	}
	if d.Status == store.DevicePending {
		// Measured from the previous poll, never from issuance (WIRE.md §6.4).
		// Times are whole seconds, so a poll exactly one interval later can
		// measure a second short: slow down only below interval−1.
		interval := int64(s.Lifetimes.DevicePollInterval.Seconds())
		if prev != 0 && now-prev < interval-1 {
			return tokenResponse{}, errSlowDown
		}
		return tokenResponse{}, errAuthorizationPending
	}
	g, err := s.Store.GetGrant(ctx, d.GrantID)
	if errors.Is(err, store.ErrNotFound) {
		return tokenResponse{}, ErrInvalidGrant("the authorization was revoked")
	} else if err != nil {
		return tokenResponse{}, err
	}
	out := s.mint(g, "", true, 0, tokenScope{})
	if err := s.Store.CreateOAuthTokens(ctx, out.accessRec, out.refreshRec); err != nil {
		return tokenResponse{}, err
	}
	// Redeem after storing, so a crash in between loses nothing; a concurrent
	// redemption that won takes the code, and ours is revoked.
	if err := s.Store.MarkDeviceCodeRedeemed(ctx, hash); err != nil {
		if rerr := s.Store.RevokeTokenFamily(ctx, out.accessRec.FamilyID, now); rerr != nil {
			return tokenResponse{}, rerr
		}
		if errors.Is(err, store.ErrUsed) {
			return tokenResponse{}, ErrInvalidGrant("device code already used")
		}
		return tokenResponse{}, err
	}
	return out.response(), nil
}
