package enterprise

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Authorizable is an enterprise credential that a SuperAdmin or Admin can
// authorize to reach their personal account-level resources: an enterprise
// PAT they created, or a Service app installed in an enterprise they
// administer. OBO grants are never authorizable.
type Authorizable struct {
	Kind       store.AccountAuthKind
	ID         string // the PAT's ID or the app's ID
	Name       string
	Enterprise store.Enterprise
	// Permissions are the credential's account-level permissions: the only
	// ones an authorization lets it use on the personal account.
	Permissions []string
	Authorized  bool
}

// Authorizables lists what userID can authorize, with whether it is
// authorized now, enterprise by enterprise.
func (s *Service) Authorizables(ctx context.Context, userID string) ([]Authorizable, error) {
	u, err := s.user(ctx, userID)
	if err != nil {
		return nil, err
	}
	given, err := s.Store.ListAccountAuthorizations(ctx, u.AccountID)
	if err != nil {
		return nil, err
	}
	authorized := func(id, enterpriseID string) bool {
		return slices.ContainsFunc(given, func(a store.AccountAuthorization) bool {
			return a.CredentialID == id && a.EnterpriseID == enterpriseID
		})
	}
	ents, err := s.AdminEnterprises(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []Authorizable
	for _, e := range ents {
		eo := store.Owner{Type: store.OwnerEnterprise, ID: e.ID}
		pats, err := s.Store.ListCredentials(ctx, store.CredentialFilter{Kind: store.KindPAT, UserID: userID, Owner: eo})
		if err != nil {
			return nil, err
		}
		for _, c := range pats {
			out = append(out, Authorizable{Kind: store.AccountAuthPAT, ID: c.ID, Name: c.Name, Enterprise: e,
				Permissions: s.accountLevel(c.Permissions), Authorized: authorized(c.ID, e.ID)})
		}
		gs, err := s.Store.ListGrants(ctx, store.GrantFilter{Kind: store.GrantAppAuth, Owner: eo})
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			app, err := s.Store.GetApp(ctx, g.AppID)
			if err != nil {
				return nil, err
			}
			out = append(out, Authorizable{Kind: store.AccountAuthApp, ID: app.ID, Name: app.Name, Enterprise: e,
				Permissions: s.accountLevel(g.Permissions), Authorized: authorized(app.ID, e.ID)})
		}
	}
	return out, nil
}

// accountLevel keeps the account-level permissions of a list.
func (s *Service) accountLevel(perms []string) []string {
	out := []string{}
	for _, name := range perms {
		if p, ok := s.Catalog.Lookup(name); ok && p.Level == permission.LevelAccount {
			out = append(out, name)
		}
	}
	return out
}

func (s *Service) user(ctx context.Context, id string) (store.User, error) {
	u, err := s.Store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("%w: user %q not found", store.ErrNotFound, id)
	}
	return u, err
}

// findAuthorizable picks credentialID among what userID can authorize; an
// app installed in several of the user's enterprises needs enterpriseID.
func (s *Service) findAuthorizable(ctx context.Context, userID, credentialID, enterpriseID string) (Authorizable, error) {
	all, err := s.Authorizables(ctx, userID)
	if err != nil {
		return Authorizable{}, err
	}
	var found []Authorizable
	for _, a := range all {
		if a.ID == credentialID && (enterpriseID == "" || a.Enterprise.ID == enterpriseID) {
			found = append(found, a)
		}
	}
	switch len(found) {
	case 0:
		return Authorizable{}, invalid("%q is not an enterprise PAT you created or a Service app installed in an enterprise you administer", credentialID)
	case 1:
		return found[0], nil
	}
	return Authorizable{}, invalid("app %q is installed in several of your enterprises: name the enterprise", credentialID)
}

// AuthorizeCredential lets an enterprise credential reach userID's personal
// account-level resources (with its account-level permissions). Authorizing
// twice is not an error.
func (s *Service) AuthorizeCredential(ctx context.Context, userID, credentialID, enterpriseID string) error {
	a, err := s.findAuthorizable(ctx, userID, credentialID, enterpriseID)
	if err != nil {
		return err
	}
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	ctx = s.withAudit(ctx, userID, "account.authorize", "account", u.AccountID,
		map[string]any{"credential_id": a.ID, "kind": a.Kind, "enterprise_id": a.Enterprise.ID})
	return s.Store.PutAccountAuthorization(ctx, store.AccountAuthorization{AccountID: u.AccountID, CredentialID: a.ID,
		Kind: a.Kind, EnterpriseID: a.Enterprise.ID, CreatedBy: userID, CreatedAt: s.Now().Unix()})
}

// RevokeCredential ends an authorization given by AuthorizeCredential; the
// credential loses the personal resources at once.
func (s *Service) RevokeCredential(ctx context.Context, userID, credentialID string) error {
	u, err := s.user(ctx, userID)
	if err != nil {
		return err
	}
	ctx = s.withAudit(ctx, userID, "account.revoke", "account", u.AccountID, map[string]any{"credential_id": credentialID})
	if err := s.Store.DeleteAccountAuthorization(ctx, u.AccountID, credentialID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %q is not authorized for %s's personal resources", store.ErrNotFound, credentialID, u.Username)
	} else if err != nil {
		return err
	}
	s.changed()
	return nil
}
