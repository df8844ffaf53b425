package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/store"
)

// codeGrant exchanges an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.6).
type codeGrant struct{}

func (codeGrant) handle(ctx context.Context, s *Service, req *tokenRequest) (tokenResponse, error) {
	if req.Code == "" {
		return tokenResponse{}, ErrInvalidRequest("code is required")
	}
	app, err := s.authenticateClient(ctx, req, false)
	if err != nil {
		return tokenResponse{}, err
	}
	now := s.Now().Unix()
	var out issued
	// Atomically: consume the code, check it, store the tokens and remember
	// their family (so a second use can revoke them). The callback may run
	// while a transaction holds a connection, so it calls nothing that reads
	// the store: the store hands it the code's grant.
	_, err = s.Store.ExchangeAuthCode(ctx, credential.Hash(req.Code), now, func(c store.AuthCode, g store.Grant) ([]store.OAuthToken, error) {
		switch {
		case c.AppID != app.ID:
			return nil, ErrInvalidGrant("authorization code was issued to another client")
		case now >= c.ExpiresAt:
			return nil, ErrInvalidGrant("authorization code expired")
		case c.RedirectURI != "" && req.RedirectURI == "":
			return nil, ErrInvalidGrant("redirect_uri is required: the authorization request named one (RFC 6749 §4.1.3)")
		case c.RedirectURI != "" && req.RedirectURI != c.RedirectURI,
			c.RedirectURI == "" && req.RedirectURI != "" && !slices.Contains(app.RedirectURIs, req.RedirectURI):
			return nil, ErrInvalidGrant("redirect_uri does not match the authorization request")
		}
		if err := checkPKCE(c, req.CodeVerifier); err != nil {
			return nil, err
		}
		out = s.mint(g, "", true, 0, tokenScope{})
		return []store.OAuthToken{out.accessRec, out.refreshRec}, nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return tokenResponse{}, ErrInvalidGrant("unknown authorization code")
	case errors.Is(err, store.ErrUsed):
		// RFC 6749 §4.1.2 / RFC 9700 §4.5.1: the store revoked what the first use issued.
		return tokenResponse{}, ErrInvalidGrant("authorization code already used; the tokens it issued are revoked")
	case err != nil:
		return tokenResponse{}, err
	}
	return out.response(), nil
}

// checkPKCE verifies code_verifier against the code's challenge (RFC 7636
// §4.6). No length or charset rules: the Go SDK's verifier is 16 characters
// and Python's may contain spaces (WIRE.md §5). A "plain" challenge that is
// really S256 (the JS SDK's mix-up) is accepted.
func checkPKCE(c store.AuthCode, verifier string) error {
	if c.CodeChallenge == "" {
		if verifier != "" {
			// RFC 9700 §4.8.2: no verifier without a challenge (PKCE downgrade).
			return ErrInvalidGrant("code_verifier sent, but the authorization request had no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return ErrInvalidGrant("code_verifier is required")
	}
	eq := func(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
	ok := eq(s256(verifier), c.CodeChallenge)
	if c.ChallengeMethod == "plain" {
		ok = ok || eq(verifier, c.CodeChallenge)
	}
	if !ok {
		return ErrInvalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}
