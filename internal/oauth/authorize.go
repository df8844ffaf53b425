package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// DisplayError is an authorization-request error that must be shown to the
// user instead of being sent to the redirect URI, because the client or the
// redirect URI cannot be trusted (RFC 6749 §4.1.2.1).
type DisplayError struct {
	Msg string // English, for logs and API callers
	// Key names the message for pages in the web catalog
	// ("error.detail."+Key); Arg is its one argument, if any.
	Key, Arg string
}

func (e *DisplayError) Error() string { return e.Msg }

// AuthorizeRequest is a validated authorization request (WIRE.md §3.1).
type AuthorizeRequest struct {
	App         store.App
	RedirectURI string
	// RedirectGiven: the client named redirect_uri (rather than relying on
	// its only registered one), so the code exchange must repeat it (RFC 6749
	// §4.1.3).
	RedirectGiven   bool
	State           string
	CodeChallenge   string
	ChallengeMethod string // "S256", "plain" or "" (no PKCE)
	// WorkspaceID is the workspace fixed by the workspace_id/{id}/authorize
	// variant, or "".
	WorkspaceID string
}

// Query returns the request as query parameters, to carry it through the
// login and consent forms; ParseAuthorize validates it again on the way back.
func (r *AuthorizeRequest) Query() url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {r.App.ClientID}}
	if r.RedirectGiven {
		q.Set("redirect_uri", r.RedirectURI)
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	if r.CodeChallenge != "" {
		q.Set("code_challenge", r.CodeChallenge)
		q.Set("code_challenge_method", r.ChallengeMethod)
	}
	return q
}

// ParseAuthorize validates an authorization request. Errors before the client
// and redirect URI are trusted are *DisplayError; later ones are *Error, to be
// sent to the redirect URI with ErrorRedirect.
func (s *Service) ParseAuthorize(ctx context.Context, q url.Values, workspaceID string) (*AuthorizeRequest, error) {
	clientID := q.Get("client_id")
	if clientID == "" {
		return nil, &DisplayError{Msg: "the request has no client_id", Key: "no_client_id"}
	}
	app, ok, err := s.appByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &DisplayError{Msg: fmt.Sprintf("unknown client_id %q", clientID), Key: "unknown_client", Arg: clientID}
	}
	redirect := q.Get("redirect_uri")
	if redirect == "" {
		if len(app.RedirectURIs) != 1 {
			return nil, &DisplayError{Msg: "the request has no redirect_uri", Key: "no_redirect_uri"}
		}
		redirect = app.RedirectURIs[0] // RFC 6749 §3.1.2.3: the only registered one
	}
	if !slices.Contains(app.RedirectURIs, redirect) { // exact match, RFC 9700 §4.1.3
		return nil, &DisplayError{Msg: fmt.Sprintf("redirect_uri %q is not registered for this app", redirect), Key: "unregistered_redirect", Arg: redirect}
	}
	if !app.Active {
		return nil, &DisplayError{Msg: "this app is deactivated", Key: "deactivated"}
	}
	req := &AuthorizeRequest{App: app, RedirectURI: redirect, RedirectGiven: q.Get("redirect_uri") != "",
		State: q.Get("state"), WorkspaceID: workspaceID}
	if rt := q.Get("response_type"); rt != "code" {
		return req, &Error{Code: "unsupported_response_type", Description: fmt.Sprintf("response_type %q is not supported; use code", rt)}
	}
	switch app.ClientType {
	case store.ClientWebBackend, store.ClientSinglePageOrNative:
	default:
		return req, ErrUnauthorizedClient("a %s app cannot use the authorization code flow", app.ClientType)
	}
	req.CodeChallenge = q.Get("code_challenge")
	method := q.Get("code_challenge_method")
	switch {
	case req.CodeChallenge == "" && method != "":
		return req, ErrInvalidRequest("code_challenge_method without code_challenge")
	case req.CodeChallenge == "" && app.ClientType == store.ClientSinglePageOrNative:
		return req, ErrInvalidRequest("PKCE is required for this app: send code_challenge") // RFC 9700 §2.1.1
	case req.CodeChallenge != "":
		if method == "" {
			method = "plain" // RFC 7636 §4.3
		}
		if method != "S256" && method != "plain" {
			return req, ErrInvalidRequest("code_challenge_method %q is not supported; use S256 or plain", method)
		}
		req.ChallengeMethod = method
	}
	if workspaceID != "" {
		if _, err := s.Store.GetWorkspace(ctx, workspaceID); errors.Is(err, store.ErrNotFound) {
			return req, ErrInvalidRequest("workspace %q not found", workspaceID)
		} else if err != nil {
			return nil, err
		}
	}
	return req, nil
}

// ErrorRedirect returns the redirect URI carrying err (RFC 6749 §4.1.2.1).
func (r *AuthorizeRequest) ErrorRedirect(err *Error) string {
	q := url.Values{"error": {err.Code}, "error_description": {err.Description}}
	if r.State != "" {
		q.Set("state", r.State)
	}
	return withQuery(r.RedirectURI, q)
}

func withQuery(uri string, q url.Values) string {
	sep := "?"
	if strings.Contains(uri, "?") {
		sep = "&"
	}
	return uri + sep + q.Encode()
}

// Account is an account a user may act in.
type Account struct {
	Owner store.Owner
	Name  string // "Personal" for the personal account, else the enterprise name
	// Workspaces are the account's workspaces the user is a member of.
	Workspaces []store.MemberWorkspace
}

// ConsentOptions is what the consent page offers.
type ConsentOptions struct {
	Permissions []*permission.Permission // the app's declared permissions
	Accounts    []Account                // personal first, then enterprises
	// NeedsWorkspaces: a declared permission is workspace-level, so a
	// workspace choice (all or selected) is needed.
	NeedsWorkspaces bool
}

// Options lists what user may grant app: its permissions, and the accounts and
// workspaces to act in. fixedWorkspace ("" for none) narrows the choice to that
// workspace and the account owning it.
func (s *Service) Options(ctx context.Context, userID string, app store.App, fixedWorkspace string) (ConsentOptions, error) {
	var o ConsentOptions
	for _, name := range app.Permissions {
		if p, ok := s.Catalog.Lookup(name); ok {
			o.Permissions = append(o.Permissions, p)
			if p.Level == permission.LevelWorkspace {
				o.NeedsWorkspaces = true
			}
		}
	}
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return o, err
	}
	mws, err := s.Store.ListMemberWorkspaces(ctx, userID)
	if err != nil {
		return o, err
	}
	add := func(owner store.Owner, name string) {
		a := Account{Owner: owner, Name: name}
		for _, mw := range mws {
			if mw.Owner == owner && (fixedWorkspace == "" || mw.ID == fixedWorkspace) {
				a.Workspaces = append(a.Workspaces, mw)
			}
		}
		if fixedWorkspace != "" && len(a.Workspaces) == 0 {
			return
		}
		o.Accounts = append(o.Accounts, a)
	}
	add(u.Account(), "Personal")
	ems, err := s.Store.ListUserEnterprises(ctx, userID)
	if err != nil {
		return o, err
	}
	for _, m := range ems {
		e, err := s.Store.GetEnterprise(ctx, m.EnterpriseID)
		if err != nil {
			return o, err
		}
		add(store.Owner{Type: store.OwnerEnterprise, ID: e.ID}, e.Name)
	}
	return o, nil
}

// Choice is what the user chose on a consent page.
type Choice struct {
	UserID        string
	Account       store.Owner
	AllWorkspaces bool
	WorkspaceIDs  []string
}

// ChoiceError is a consent choice the page should show next to its field.
type ChoiceError struct{ Field, Msg string }

func (e *ChoiceError) Error() string { return e.Field + ": " + e.Msg }

// grantFor validates a consent choice against the options and stores the OBO
// grant it makes.
func (s *Service) grantFor(ctx context.Context, app store.App, fixedWorkspace string, c Choice) (store.Grant, error) {
	o, err := s.Options(ctx, c.UserID, app, fixedWorkspace)
	if err != nil {
		return store.Grant{}, err
	}
	var acct *Account
	for i := range o.Accounts {
		if o.Accounts[i].Owner == c.Account {
			acct = &o.Accounts[i]
		}
	}
	if acct == nil {
		return store.Grant{}, &ChoiceError{"account", "you cannot act in this account"}
	}
	g := store.Grant{ID: store.NewID(), AppID: app.ID, Kind: store.GrantOBO, UserID: c.UserID, Owner: c.Account,
		Permissions: s.grantablePermissions(app.Permissions, c.Account), CreatedBy: c.UserID}
	now := s.Now().Unix()
	g.CreatedAt, g.UpdatedAt = now, now
	switch {
	case fixedWorkspace != "":
		g.WorkspaceIDs = []string{fixedWorkspace}
	case c.AllWorkspaces:
		g.AllWorkspaces = true
	default:
		for _, id := range c.WorkspaceIDs {
			if !slices.ContainsFunc(acct.Workspaces, func(mw store.MemberWorkspace) bool { return mw.ID == id }) {
				return store.Grant{}, &ChoiceError{"workspaces", fmt.Sprintf("workspace %q is not one of yours in this account", id)}
			}
		}
		g.WorkspaceIDs = c.WorkspaceIDs
		if o.NeedsWorkspaces && len(g.WorkspaceIDs) == 0 {
			return store.Grant{}, &ChoiceError{"workspaces", "choose all workspaces or at least one workspace"}
		}
	}
	// Tokens keep the scope they were issued with, and refreshing carries it
	// on; so a consent that gives less than an earlier one ends the earlier
	// sign-ins (issue 11.6). Revoked before the change is stored, so a crash
	// in between errs on the safe side, and again after, for an old code
	// exchanged in between.
	prev, err := s.Store.ListGrants(ctx, store.GrantFilter{AppID: app.ID, UserID: c.UserID, Owner: c.Account, Kind: store.GrantOBO})
	if err != nil {
		return store.Grant{}, err
	}
	narrowed := len(prev) > 0 && !grantCovers(g, prev[0])
	if narrowed {
		if err := s.Store.RevokeTokensByGrant(ctx, prev[0].ID, now); err != nil {
			return store.Grant{}, err
		}
	}
	action, ent := "consent.grant", ""
	if len(prev) > 0 {
		action = "consent.change"
	}
	if c.Account.Type == store.OwnerEnterprise {
		ent = c.Account.ID
	}
	g, err = s.Store.PutGrant(store.WithAudit(ctx, store.NewAuditEvent(ctx, now, action, "app", app.ID, ent, map[string]any{
		"user_id": c.UserID, "account_type": c.Account.Type, "account_id": c.Account.ID, "permissions": g.Permissions,
		"all_workspaces": g.AllWorkspaces, "workspace_ids": g.WorkspaceIDs, "narrowed": narrowed})), g)
	if err == nil && narrowed {
		err = s.Store.RevokeTokensByGrant(ctx, g.ID, now)
	}
	if err == nil {
		// This process sees the new consent at once; other replicas within
		// a revision poll.
		s.gen.Invalidate()
	}
	return g, err
}

// grantCovers reports whether grant a gives everything b gave.
func grantCovers(a, b store.Grant) bool {
	for _, p := range b.Permissions {
		if !slices.Contains(a.Permissions, p) {
			return false
		}
	}
	if a.AllWorkspaces {
		return true
	}
	if b.AllWorkspaces {
		return false
	}
	for _, w := range b.WorkspaceIDs {
		if !slices.Contains(a.WorkspaceIDs, w) {
			return false
		}
	}
	return true
}

// Approve records the user's consent to req and returns where to send the
// browser: the redirect URI with a fresh authorization code.
func (s *Service) Approve(ctx context.Context, req *AuthorizeRequest, c Choice) (string, error) {
	g, err := s.grantFor(ctx, req.App, req.WorkspaceID, c)
	if err != nil {
		return "", err
	}
	code := credential.NewOrderedToken(prefixCode)
	now := s.Now()
	// The code remembers the redirect URI only when the client named it: then
	// the exchange must name the same one (RFC 6749 §4.1.3).
	bound := ""
	if req.RedirectGiven {
		bound = req.RedirectURI
	}
	if err := s.Store.CreateAuthCode(ctx, store.AuthCode{
		Hash: credential.Hash(code), AppID: req.App.ID, GrantID: g.ID, RedirectURI: bound,
		CodeChallenge: req.CodeChallenge, ChallengeMethod: req.ChallengeMethod,
		ExpiresAt: now.Add(s.Lifetimes.AuthCode).Unix(), CreatedAt: now.Unix(),
	}); err != nil {
		return "", err
	}
	q := url.Values{"code": {code}}
	if req.State != "" { // WIRE.md §3.1: echo state only when non-empty
		q.Set("state", req.State)
	}
	return withQuery(req.RedirectURI, q), nil
}

// Deny returns the redirect URI telling the client the user refused.
func (s *Service) Deny(req *AuthorizeRequest) string {
	return req.ErrorRedirect(ErrAccessDenied("the user denied the authorization request"))
}

// s256 is the PKCE S256 transform (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// grantablePermissions is what a consent in account gives of the app's
// permissions: a personal account cannot grant enterprise-level ones (no
// personal credential may carry them; they could never be used).
func (s *Service) grantablePermissions(perms []string, account store.Owner) []string {
	out := make([]string, 0, len(perms))
	for _, name := range perms {
		if p, ok := s.Catalog.Lookup(name); ok && p.Level == permission.LevelEnterprise && account.Type != store.OwnerEnterprise {
			continue
		}
		out = append(out, name)
	}
	return out
}
