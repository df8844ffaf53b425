// Package authz answers "may this bearer token do P on R?" for every server
// route: it turns a token into a credential (through the resolvers of each
// credential kind), gathers the facts the decision needs from cached store
// reads, and calls permission.Decide.
package authz

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Principal is an authenticated bearer credential.
type Principal struct {
	Cred permission.Credential
	// Kind is "pat", "sat", or the kind of an OAuth token.
	Kind string
	// Name is the credential's display name (for a SAT, the service identity's name).
	Name string
	// AppID is the OAuth app of an OAuth token ("" for PATs and SATs).
	AppID string
}

// Store is what authz reads.
type Store interface {
	store.Users
	store.Enterprises
	store.Workspaces
	store.Resources
	store.Credentials
	store.AccountAuthorizations
}

// TokenResolver resolves bearer tokens of another credential kind (OAuth
// access tokens). ok is false when the token is not of its kind or unknown.
type TokenResolver interface {
	Accepts(token string) bool
	ResolvePrincipal(ctx context.Context, token string) (p *Principal, ok bool, err error)
}

// Authorizer authenticates tokens and decides requests.
type Authorizer struct {
	Catalog  *permission.Catalog
	Verifier *credential.Verifier
	// Others resolve tokens that are not PATs or SATs.
	Others []TokenResolver
	// Inspectors describe tokens that are not PATs or SATs for introspection.
	Inspectors []TokenInspector
	Facts      *Facts
	Now        func() time.Time
}

// Authenticate resolves a bearer token to a principal and checks that it is
// live (decision step 1). Store failures are returned as they are, so callers
// answer 5xx rather than 401 for an outage.
func (a *Authorizer) Authenticate(ctx context.Context, token string) (*Principal, permission.Decision, error) {
	now := a.Now().Unix()
	unknown := permission.Decision{Code: permission.Unauthenticated, Reason: "unknown token"}
	var p *Principal
	for _, r := range a.Others {
		if !r.Accepts(token) {
			continue
		}
		rp, ok, err := r.ResolvePrincipal(ctx, token)
		if err != nil {
			return nil, permission.Decision{}, err
		}
		if !ok {
			return nil, unknown, nil
		}
		p = rp
	}
	if p == nil {
		v, err := a.Verifier.Verify(ctx, token, now)
		if errors.Is(err, credential.ErrUnknownToken) {
			return nil, unknown, nil
		}
		if err != nil {
			return nil, permission.Decision{}, err
		}
		p = &Principal{Cred: v.View, Kind: string(v.Record.Kind), Name: v.Record.Name}
	}
	facts, err := a.Facts.Base(ctx, &p.Cred)
	if err != nil {
		return nil, permission.Decision{}, err
	}
	d := permission.Decide(now, &p.Cred, nil, facts)
	if !d.OK() {
		return nil, d, nil
	}
	return p, d, nil
}

// ResourceRef names the resource of a request.
type ResourceRef struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// Check decides whether an authenticated principal may use perm on ref (nil:
// no particular resource). botID names the bot of a Connector.botChat request.
func (a *Authorizer) Check(ctx context.Context, p *Principal, perm *permission.Permission, ref *ResourceRef, botID string) (permission.Decision, error) {
	d, _, err := a.CheckTarget(ctx, p, perm, ref, botID)
	return d, err
}

// CheckTarget is Check that also returns the facts about the resource it
// decided on (nil when ref is nil), such as its workspace.
func (a *Authorizer) CheckTarget(ctx context.Context, p *Principal, perm *permission.Permission, ref *ResourceRef, botID string) (permission.Decision, *permission.Target, error) {
	facts, err := a.Facts.Base(ctx, &p.Cred)
	if err != nil {
		return permission.Decision{}, nil, err
	}
	facts.BotID = botID
	// Without the permission the decision is 4101 whatever the resource (step
	// 2 comes first), so the resource's facts, which may mean asking the
	// upstream, are not gathered.
	if ref != nil && (perm == nil || p.Cred.Has(perm.Name)) {
		t, err := a.Facts.Target(ctx, &p.Cred, perm, *ref)
		if err != nil {
			return permission.Decision{}, nil, err
		}
		facts.Target = t
	}
	return permission.Decide(a.Now().Unix(), &p.Cred, perm, facts), facts.Target, nil
}

// ErrBadResource: the resource reference does not fit the permission.
var ErrBadResource = errors.New("bad resource reference")

// CheckResourceType verifies that ref is the kind of resource perm acts on.
func CheckResourceType(perm *permission.Permission, ref ResourceRef) error {
	if ref.Type == "" || ref.ID == "" {
		return fmt.Errorf("%w: a resource needs a type and an id", ErrBadResource)
	}
	if ref.Type != perm.ResourceType {
		return fmt.Errorf("%w: %s acts on %q resources, not %q", ErrBadResource, perm.Name, perm.ResourceType, ref.Type)
	}
	return nil
}

// ResourceResolver tells which workspace a resource that cozeauth does not
// know lives in, by asking the system that owns it (the gateway's upstream).
// ok is false when it does not know either.
type ResourceResolver interface {
	ResolveWorkspace(ctx context.Context, typ, id string) (workspaceID string, ok bool, err error)
}

// Facts reads memberships, workspaces and resources through caches that are
// all dropped when the store's revision changes.
type Facts struct {
	// Resolver, when set, is asked about workspace resources missing from the
	// store; it keeps its own cache.
	Resolver ResourceResolver

	store       Store
	users       *cache.Cache[string, store.User]
	entMembers  *cache.Cache[[2]string, store.EnterpriseMember]
	workspaces  *cache.Cache[string, store.Workspace]
	wsMembers   *cache.Cache[[2]string, store.WorkspaceMember]
	resources   *cache.Cache[[2]string, store.Resource]
	enterprises *cache.Cache[string, store.Enterprise]
	accountAuth *cache.Cache[[2]string, store.AccountAuthorization]
}

const cacheSize = 100_000

// NewFacts returns a fact reader over s whose caches share gen.
func NewFacts(s Store, gen *cache.Generation) *Facts {
	return &Facts{
		store:       s,
		users:       cache.New[string, store.User](gen, cacheSize),
		entMembers:  cache.New[[2]string, store.EnterpriseMember](gen, cacheSize),
		workspaces:  cache.New[string, store.Workspace](gen, cacheSize),
		wsMembers:   cache.New[[2]string, store.WorkspaceMember](gen, cacheSize),
		resources:   cache.New[[2]string, store.Resource](gen, cacheSize),
		enterprises: cache.New[string, store.Enterprise](gen, cacheSize),
		accountAuth: cache.New[[2]string, store.AccountAuthorization](gen, cacheSize),
	}
}

// lookup reads through c; store.ErrNotFound is a miss, which is not cached,
// so a record created a moment ago is seen at once (removals wait for the
// next revision poll).
func lookup[K comparable, V any](c *cache.Cache[K, V], k K, get func() (V, error)) (V, bool, error) {
	return cache.LoadOrMiss(c, k, store.ErrNotFound, get)
}

// User returns a user by ID.
func (f *Facts) User(ctx context.Context, id string) (store.User, bool, error) {
	return lookup(f.users, id, func() (store.User, error) { return f.store.GetUser(ctx, id) })
}

// EnterpriseMember returns a user's membership in an enterprise.
func (f *Facts) EnterpriseMember(ctx context.Context, enterpriseID, userID string) (store.EnterpriseMember, bool, error) {
	return lookup(f.entMembers, [2]string{enterpriseID, userID}, func() (store.EnterpriseMember, error) {
		return f.store.GetEnterpriseMember(ctx, enterpriseID, userID)
	})
}

// Workspace returns a workspace by ID.
func (f *Facts) Workspace(ctx context.Context, id string) (store.Workspace, bool, error) {
	return lookup(f.workspaces, id, func() (store.Workspace, error) { return f.store.GetWorkspace(ctx, id) })
}

// WorkspaceMember returns a user's membership in a workspace.
func (f *Facts) WorkspaceMember(ctx context.Context, workspaceID, userID string) (store.WorkspaceMember, bool, error) {
	return lookup(f.wsMembers, [2]string{workspaceID, userID}, func() (store.WorkspaceMember, error) {
		return f.store.GetWorkspaceMember(ctx, workspaceID, userID)
	})
}

func (f *Facts) resource(ctx context.Context, typ, id string) (store.Resource, bool, error) {
	return lookup(f.resources, [2]string{typ, id}, func() (store.Resource, error) { return f.store.GetResource(ctx, typ, id) })
}

func (f *Facts) enterprise(ctx context.Context, id string) (store.Enterprise, bool, error) {
	return lookup(f.enterprises, id, func() (store.Enterprise, error) { return f.store.GetEnterprise(ctx, id) })
}

// Base gathers the facts about the credential itself.
func (f *Facts) Base(ctx context.Context, c *permission.Credential) (permission.Facts, error) {
	if c.Account.Type != store.OwnerEnterprise || c.UserID == "" {
		return permission.Facts{SubjectInAccount: true}, nil
	}
	_, ok, err := f.EnterpriseMember(ctx, c.Account.ID, c.UserID)
	return permission.Facts{SubjectInAccount: ok}, err
}

// accountExists reports whether id is a personal account or an enterprise.
func (f *Facts) accountExists(ctx context.Context, id string) (bool, error) {
	_, ok, err := lookup(f.users, "account:"+id, func() (store.User, error) { return f.store.GetUserByAccountID(ctx, id) })
	if err != nil || ok {
		return ok, err
	}
	_, ok, err = f.enterprise(ctx, id)
	return ok, err
}

// resourceWorkspace returns the workspace a workspace-level resource lives
// in: a {type:"workspace"} reference is the workspace itself; other resources
// are looked up in the store, then asked of the Resolver.
func (f *Facts) resourceWorkspace(ctx context.Context, ref ResourceRef) (string, bool, error) {
	if ref.Type == "workspace" {
		return ref.ID, true, nil
	}
	r, ok, err := f.resource(ctx, ref.Type, ref.ID)
	if err != nil || ok {
		return r.WorkspaceID, ok && r.WorkspaceID != "", err
	}
	if f.Resolver == nil {
		return "", false, nil
	}
	return f.Resolver.ResolveWorkspace(ctx, ref.Type, ref.ID)
}

// Target gathers the facts about the resource ref names.
func (f *Facts) Target(ctx context.Context, c *permission.Credential, perm *permission.Permission, ref ResourceRef) (*permission.Target, error) {
	t := &permission.Target{Type: ref.Type, ID: ref.ID}
	switch perm.Level {
	case permission.LevelAccount:
		ok, err := f.accountExists(ctx, ref.ID)
		if err != nil {
			return nil, err
		}
		t.Exists, t.AccountID = ok, ref.ID
		if ok && c.AuthorizableID != "" && c.Account.Type == store.OwnerEnterprise {
			a, found, err := lookup(f.accountAuth, [2]string{ref.ID, c.AuthorizableID}, func() (store.AccountAuthorization, error) {
				return f.store.GetAccountAuthorization(ctx, ref.ID, c.AuthorizableID)
			})
			if err != nil {
				return nil, err
			}
			// Authorized for this enterprise: an app installed in two
			// enterprises is authorized in each separately.
			t.AccountAuthorized = found && a.EnterpriseID == c.Account.ID
		}
	case permission.LevelEnterprise:
		_, ok, err := f.enterprise(ctx, ref.ID)
		if err != nil || !ok {
			return t, err
		}
		t.Exists = true
		if c.UserID != "" {
			m, found, err := f.EnterpriseMember(ctx, ref.ID, c.UserID)
			if err != nil {
				return nil, err
			}
			t.SubjectIsAdmin = found && m.Role.IsAdmin()
		}
	case permission.LevelWorkspace:
		wsID, ok, err := f.resourceWorkspace(ctx, ref)
		if err != nil || !ok {
			return t, err
		}
		ws, ok, err := f.Workspace(ctx, wsID)
		if err != nil || !ok {
			return t, err
		}
		t.Exists, t.Workspace = true, ws
		if c.UserID != "" {
			_, t.SubjectIsMember, err = f.WorkspaceMember(ctx, ws.ID, c.UserID)
			if err != nil {
				return nil, err
			}
		}
	}
	return t, nil
}
