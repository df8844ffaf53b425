package credential

import (
	"context"
	"errors"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// ErrUnknownToken: the token is malformed or names no stored credential.
var ErrUnknownToken = errors.New("unknown token")

// Verified is a stored credential with its decision view.
type Verified struct {
	Record store.Credential
	View   permission.Credential
}

// ViewOf reduces a stored PAT or SAT to what the decision function sees. A
// SAT acts as its service identity, so it has no user whose memberships count.
func ViewOf(c store.Credential) permission.Credential {
	v := permission.Credential{
		ID: c.ID, Account: c.Owner, Permissions: c.Permissions,
		AllWorkspaces: c.AllWorkspaces, Workspaces: c.WorkspaceIDs, ExpireAt: c.ExpireAt,
	}
	if c.Kind == store.KindPAT {
		v.UserID = c.UserID
		// An account can authorize an enterprise PAT to reach its personal
		// resources by the PAT's ID.
		v.AuthorizableID = c.ID
	}
	return v
}

// Verifier finds the credential of a PAT or SAT. Lookups are cached until the
// store's revision changes (see package cache), so a verified request reads
// the database only on a cache miss and never writes to it: last use is
// recorded in memory and flushed in batches by LastUsed.
type Verifier struct {
	Store    interface{ store.Credentials }
	Cache    *cache.Cache[string, *Verified]
	LastUsed *LastUsed
}

// Verify returns the credential a PAT or SAT names. Expiry is not checked
// here; the decision function does it.
func (v *Verifier) Verify(ctx context.Context, token string, now int64) (*Verified, error) {
	kind, ok := KindOf(token)
	if !ok || !wellFormed(token) {
		return nil, ErrUnknownToken
	}
	h := Hash(token)
	got, err := cache.Load(v.Cache, h, func() (*Verified, error) {
		c, err := v.Store.GetCredentialByHash(ctx, h)
		if err != nil {
			return nil, err
		}
		return &Verified{Record: c, View: ViewOf(c)}, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownToken
	}
	if err != nil {
		return nil, err
	}
	// The index lookup matched on the hash; compare again in constant time so
	// no code path depends on a variable-time comparison, and check the kind
	// the prefix announced.
	if !HashesEqual(got.Record.TokenHash, h) || got.Record.Kind != kind {
		return nil, ErrUnknownToken
	}
	if v.LastUsed != nil {
		v.LastUsed.Record(got.Record.ID, now)
	}
	return got, nil
}
