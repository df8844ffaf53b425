package oauth

import (
	"context"
	"errors"
	"fmt"

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
	var out issued
	d, prev, err := s.Store.PollDevice(ctx, credential.Hash(req.DeviceCode), now, func(d store.DeviceCode, g store.Grant) ([]store.OAuthToken, error) {
		if err := s.devicePending(d, app, now, 0); err != nil {
			return nil, err
		}
		// The tokens are stored and the code redeemed atomically.
		out = s.mint(g, "", true, 0, tokenScope{})
		return []store.OAuthToken{out.accessRec, out.refreshRec}, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, ErrInvalidGrant("unknown device code")
	case errors.Is(err, store.ErrUsed): // a concurrent poll redeemed it
		return tokenResponse{}, ErrInvalidGrant("device code already used")
	case err != nil:
		return tokenResponse{}, err
	case d.Status == store.DeviceRedeemed && out.access != "":
		return out.response(), nil
	}
	if err := s.devicePending(d, app, now, prev); err != nil {
		return tokenResponse{}, err
	}
	return tokenResponse{}, fmt.Errorf("device code %s is approved but was not redeemed", d.UserCode)
}

// devicePending says why polled code d gives app no token at now (prev: the
// poll before), or nil when it is approved and may be redeemed.
func (s *Service) devicePending(d store.DeviceCode, app store.App, now, prev int64) error {
	if d.AppID != app.ID {
		return ErrInvalidGrant("device code was issued to another client")
	}
	switch d.Status {
	case store.DeviceRedeemed:
		return ErrInvalidGrant("device code already used")
	case store.DeviceDenied:
		return ErrAccessDenied("the user denied the authorization request")
	}
	if now >= d.ExpiresAt {
		return errExpiredToken
	}
	if d.Status == store.DevicePending {
		// Measured from the previous poll, never from issuance (WIRE.md §6.4).
		// Times are whole seconds, so a poll exactly one interval later can
		// measure a second short: slow down only below interval−1.
		interval := int64(s.Lifetimes.DevicePollInterval.Seconds())
		if prev != 0 && now-prev < interval-1 {
			return errSlowDown
		}
		return errAuthorizationPending
	}
	return nil
}
