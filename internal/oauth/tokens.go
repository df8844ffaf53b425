package oauth

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Visible prefixes of what the service mints. Access tokens never start with
// pat_ (WIRE.md §8.5).
const (
	PrefixAccess  = "czu_"
	PrefixRefresh = "czr_"
	prefixCode    = "czc_"
	prefixDevice  = "czd_"
	prefixSecret  = "czs_"
)

// IsAccessToken reports whether token looks like one of our access tokens.
func IsAccessToken(token string) bool { return strings.HasPrefix(token, PrefixAccess) }

// lookup reads through c; store.ErrNotFound is a miss, which is not cached.
func lookup[K comparable, V any](c *cache.Cache[K, V], k K, get func() (V, error)) (V, bool, error) {
	return cache.LoadOrMiss(c, k, store.ErrNotFound, get)
}

func (s *Service) appByClientID(ctx context.Context, clientID string) (store.App, bool, error) {
	return lookup(s.apps, "client:"+clientID, func() (store.App, error) { return s.Store.GetAppByClientID(ctx, clientID) })
}

func (s *Service) appByID(ctx context.Context, id string) (store.App, bool, error) {
	return lookup(s.apps, "id:"+id, func() (store.App, error) { return s.Store.GetApp(ctx, id) })
}

func (s *Service) grantByID(ctx context.Context, id string) (store.Grant, bool, error) {
	return lookup(s.grants, id, func() (store.Grant, error) { return s.Store.GetGrant(ctx, id) })
}

// issued is a minted token pair before it is stored.
type issued struct {
	access, refresh       string
	accessRec, refreshRec store.OAuthToken
}

// mint makes an access token (and a refresh token when withRefresh) for
// grant g in family (new family when ""). The tokens snapshot the grant's
// permissions and workspaces (unless narrow already names them): a token
// reaches exactly what was granted when it was issued.
func (s *Service) mint(g store.Grant, family string, withRefresh bool, accessTTLSeconds int64, narrow tokenScope) issued {
	now := s.Now().Unix()
	if family == "" {
		family = store.NewID()
	}
	if accessTTLSeconds <= 0 {
		accessTTLSeconds = int64(s.Lifetimes.AccessToken.Seconds())
	}
	if narrow.permissions == nil {
		narrow.permissions = g.Permissions
	}
	if !narrow.scoped {
		narrow.allWorkspaces, narrow.workspaceIDs, narrow.scoped = g.AllWorkspaces, g.WorkspaceIDs, true
	}
	var out issued
	out.access = credential.NewOrderedToken(PrefixAccess)
	out.accessRec = store.OAuthToken{ID: store.NewID(), Hash: credential.Hash(out.access), Kind: store.TokenAccess,
		AppID: g.AppID, GrantID: g.ID, FamilyID: family, SessionName: narrow.sessionName,
		Permissions: narrow.permissions, BotIDs: narrow.botIDs, AllWorkspaces: narrow.allWorkspaces,
		WorkspaceIDs: narrow.workspaceIDs, ExpiresAt: now + accessTTLSeconds, CreatedAt: now}
	if withRefresh {
		out.refresh = credential.NewOrderedToken(PrefixRefresh)
		out.refreshRec = store.OAuthToken{ID: store.NewID(), Hash: credential.Hash(out.refresh), Kind: store.TokenRefresh,
			AppID: g.AppID, GrantID: g.ID, FamilyID: family, Permissions: narrow.permissions, BotIDs: narrow.botIDs,
			AllWorkspaces: narrow.allWorkspaces, WorkspaceIDs: narrow.workspaceIDs,
			ExpiresAt: now + int64(s.Lifetimes.RefreshToken.Seconds()), CreatedAt: now}
	}
	return out
}

// tokenScope narrows a token below its grant.
type tokenScope struct {
	permissions []string // nil: the grant's
	botIDs      []string
	sessionName string
	// scoped: allWorkspaces/workspaceIDs are set (a refresh carries its old
	// token's); otherwise the grant's are snapshot.
	scoped        bool
	allWorkspaces bool
	workspaceIDs  []string
}

// scopeOf is the scope a refreshed token keeps.
func scopeOf(t store.OAuthToken) tokenScope {
	return tokenScope{permissions: t.Permissions, botIDs: t.BotIDs, scoped: true,
		allWorkspaces: t.AllWorkspaces, workspaceIDs: t.WorkspaceIDs}
}

// tokenResponse is the WIRE.md §3.4 success body: top level, expires_in an
// absolute Unix time, no refresh_token key for JWT grants.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func (i issued) response() tokenResponse {
	return tokenResponse{AccessToken: i.access, TokenType: "Bearer", ExpiresIn: i.accessRec.ExpiresAt, RefreshToken: i.refresh}
}

// Principal is what an OAuth access token acts as, for the decision function.
type Principal struct {
	View    permission.Credential
	Name    string // the app's name
	AppID   string
	Kind    store.GrantKind
	Session string
}

// ErrUnknownToken: not one of our access tokens.
var ErrUnknownToken = errors.New("unknown access token")

// Resolve turns an access token into its decision view: the grant's account,
// user and workspaces; the permissions the grant, the app's declared ones and
// the token's narrowing all allow; revoked when the token or grant is gone,
// disabled when the app is deactivated.
func (s *Service) Resolve(ctx context.Context, token string) (*Principal, error) {
	t, err := s.accessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	d, err := s.describe(ctx, t)
	if err != nil {
		return nil, err
	}
	return &Principal{View: d.view, Name: d.app.Name, AppID: d.app.ID, Kind: d.grant.Kind, Session: t.SessionName}, nil
}

// accessToken finds an access token's record through the token cache
// (revocation advances the revision, which drops it).
func (s *Service) accessToken(ctx context.Context, token string) (*store.OAuthToken, error) {
	if !IsAccessToken(token) {
		return nil, ErrUnknownToken
	}
	h := credential.Hash(token)
	t, err := cache.Load(s.tokens, h, func() (*store.OAuthToken, error) {
		t, err := s.Store.GetOAuthTokenByHash(ctx, h)
		if err != nil {
			return nil, err
		}
		return &t, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownToken
	}
	if err != nil {
		return nil, err
	}
	if t.Kind != store.TokenAccess || !credential.HashesEqual(t.Hash, h) {
		return nil, ErrUnknownToken
	}
	return t, nil
}

// described is a token with its app and grant and its decision view.
type described struct {
	view  permission.Credential
	app   store.App
	grant store.Grant
}

// describe builds the decision view of a stored token.
func (s *Service) describe(ctx context.Context, t *store.OAuthToken) (described, error) {
	app, okApp, err := s.appByID(ctx, t.AppID)
	if err != nil {
		return described{}, err
	}
	g, okGrant, err := s.grantByID(ctx, t.GrantID)
	if err != nil {
		return described{}, err
	}
	// The token reaches exactly what was granted when it was issued (its
	// snapshot); the grant supplies the account and user, and its removal
	// revokes the token. A later consent, wider or narrower, makes new tokens.
	v := permission.Credential{
		ID: t.ID, Account: g.Owner, UserID: g.UserID, AllWorkspaces: t.AllWorkspaces, Workspaces: t.WorkspaceIDs,
		ExpireAt: t.ExpiresAt, Revoked: t.RevokedAt != 0 || !okGrant, Disabled: !okApp || !app.Active,
		Permissions: effectivePermissions(t.Permissions, app.Permissions), BotIDs: t.BotIDs,
	}
	if g.Kind == store.GrantAppAuth {
		// An account authorizes an installed app (all its tokens) by app ID;
		// OBO tokens are never authorized so.
		v.AuthorizableID = app.ID
	}
	return described{view: v, app: app, grant: g}, nil
}

// InspectToken describes an access or refresh token for introspection (RFC
// 7662). Refresh tokens are read from the store, not the cache: rotating one
// does not advance the revision, and a rotated refresh token is dead.
func (s *Service) InspectToken(ctx context.Context, token string) (*authz.TokenInfo, bool, error) {
	var t *store.OAuthToken
	typ := authz.TokenTypeAccess
	switch {
	case IsAccessToken(token):
		var err error
		if t, err = s.accessToken(ctx, token); errors.Is(err, ErrUnknownToken) {
			return nil, false, nil
		} else if err != nil {
			return nil, false, err
		}
	case strings.HasPrefix(token, PrefixRefresh):
		h := credential.Hash(token)
		rec, err := s.Store.GetOAuthTokenByHash(ctx, h)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if rec.Kind != store.TokenRefresh || !credential.HashesEqual(rec.Hash, h) {
			return nil, false, nil
		}
		t, typ = &rec, authz.TokenTypeRefresh
	default:
		return nil, false, nil
	}
	d, err := s.describe(ctx, t)
	if err != nil {
		return nil, false, err
	}
	if t.RotatedAt != 0 {
		d.view.Revoked = true
	}
	return &authz.TokenInfo{Cred: d.view, Type: typ, ClientID: d.app.ClientID, AppOwner: d.app.Owner, IssuedAt: t.CreatedAt}, true, nil
}

var _ authz.TokenInspector = (*Service)(nil)

// effectivePermissions is the token's permissions (snapshot at issue) that
// the app still declares, sorted: an app owner removing a permission takes
// it from every token at once.
func effectivePermissions(token, app []string) []string {
	var out []string
	for _, p := range token {
		if slices.Contains(app, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Accepts tells the authorizer which tokens are OAuth access tokens.
func (s *Service) Accepts(token string) bool { return IsAccessToken(token) }

// ResolvePrincipal makes the service an authz.TokenResolver.
func (s *Service) ResolvePrincipal(ctx context.Context, token string) (*authz.Principal, bool, error) {
	p, err := s.Resolve(ctx, token)
	if errors.Is(err, ErrUnknownToken) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &authz.Principal{Cred: p.View, Kind: "oauth_" + string(p.Kind), Name: p.Name, AppID: p.AppID}, true, nil
}

var _ authz.TokenResolver = (*Service)(nil)
