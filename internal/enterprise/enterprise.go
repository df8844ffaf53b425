// Package enterprise carries out the enterprise upgrade of seed 004: app
// installation, the migration of personal workspaces into an enterprise with
// its checklist, personal account resource authorization, and the
// management of enterprise members. It validates who may do what and writes
// each change with its audit event; the effect on credentials is left to the
// decision function and the data (who owns a workspace, which grants and
// authorizations exist).
package enterprise

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// ErrInvalid marks a request that names something wrong or that its maker
// may not do; its message is for the caller.
var ErrInvalid = errors.New("invalid request")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Store is what the enterprise operations need.
type Store interface {
	store.Users
	store.Enterprises
	store.Workspaces
	store.Credentials
	store.Apps
	store.Grants
	store.AccountAuthorizations
	store.Audit
	store.EnterpriseOps
}

// Service validates and performs enterprise operations.
type Service struct {
	Store   Store
	OAuth   *oauth.Service
	Catalog *permission.Catalog
	Now     func() time.Time
	// Changed is called after a change that can take access away, so this
	// process drops its caches at once (other processes follow the store's
	// revision). Optional.
	Changed func()
}

func (s *Service) changed() {
	if s.Changed != nil {
		s.Changed()
	}
}

// audit builds the audit event of a change made on behalf of actor ("" for
// the CLI, a SAT or an installed app), with the client IP and log ID of ctx.
// It belongs to the enterprise the target is (or names in its detail), so
// that enterprise's admins see it.
func (s *Service) audit(ctx context.Context, actor, action, targetType, targetID string, detail map[string]any) store.AuditEvent {
	ent, _ := detail["enterprise_id"].(string)
	if targetType == "enterprise" {
		ent = targetID
	}
	e := store.NewAuditEvent(ctx, s.Now().Unix(), action, targetType, targetID, ent, detail)
	// The actor is who the change is made for; the CLI naming one (--by)
	// stays the "cli" actor type.
	if e.ActorID != actor {
		e.ActorID = actor
		if actor != "" && e.ActorType != store.ActorCLI {
			e.ActorType = store.ActorUser
		}
	}
	return e
}

// withAudit returns ctx carrying the event of the change made with it, so the
// event commits in the change's transaction.
func (s *Service) withAudit(ctx context.Context, actor, action, targetType, targetID string, detail map[string]any) context.Context {
	return store.WithAudit(ctx, s.audit(ctx, actor, action, targetType, targetID, detail))
}

// enterprise returns the enterprise, or a not-found error naming it.
func (s *Service) enterprise(ctx context.Context, id string) (store.Enterprise, error) {
	e, err := s.Store.GetEnterprise(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return e, fmt.Errorf("%w: enterprise %q not found", store.ErrNotFound, id)
	}
	return e, err
}

// requireAdmin checks that userID is a SuperAdmin or Admin of the enterprise.
func (s *Service) requireAdmin(ctx context.Context, enterpriseID, userID, what string) (store.EnterpriseMember, error) {
	m, err := s.Store.GetEnterpriseMember(ctx, enterpriseID, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !m.Role.IsAdmin()) {
		return m, invalid("only a SuperAdmin or Admin of enterprise %q can %s", enterpriseID, what)
	}
	return m, err
}

// AdminEnterprises lists the enterprises userID administers.
func (s *Service) AdminEnterprises(ctx context.Context, userID string) ([]store.Enterprise, error) {
	ms, err := s.Store.ListUserEnterprises(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []store.Enterprise
	for _, m := range ms {
		if !m.Role.IsAdmin() {
			continue
		}
		e, err := s.Store.GetEnterprise(ctx, m.EnterpriseID)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// ---- app installation

// Install installs a Service app in an enterprise for all its workspaces, on
// behalf of by (a SuperAdmin or Admin), and records it in the audit log.
func (s *Service) Install(ctx context.Context, appID, enterpriseID, by string) (store.Grant, error) {
	return s.OAuth.InstallApp(s.withAudit(ctx, by, "app.install", "app", appID, map[string]any{"enterprise_id": enterpriseID}),
		appID, enterpriseID, by)
}

// Uninstall removes an app's installation from an enterprise, on behalf of
// by (a SuperAdmin or Admin; "" for the operator of the admin CLI); its
// tokens stop at once.
func (s *Service) Uninstall(ctx context.Context, appID, enterpriseID, by string) error {
	if by != "" {
		if _, err := s.requireAdmin(ctx, enterpriseID, by, "uninstall apps"); err != nil {
			return err
		}
	}
	if err := s.OAuth.UninstallApp(s.withAudit(ctx, by, "app.uninstall", "app", appID, map[string]any{"enterprise_id": enterpriseID}),
		appID, enterpriseID); err != nil {
		return err
	}
	s.changed()
	return nil
}

// Installation is an app installed in an enterprise, for the installations page.
type Installation struct {
	Grant store.Grant
	App   store.App
	// InstalledBy is who installed it (zero when unknown: installed before
	// that was recorded, or the user is gone).
	InstalledBy store.User
}

// Installations lists the apps installed in the enterprise, oldest first;
// by must administer it.
func (s *Service) Installations(ctx context.Context, enterpriseID, by string) ([]Installation, error) {
	if _, err := s.requireAdmin(ctx, enterpriseID, by, "see its installations"); err != nil {
		return nil, err
	}
	gs, err := s.Store.ListGrants(ctx, store.GrantFilter{Kind: store.GrantAppAuth, Owner: store.Owner{Type: store.OwnerEnterprise, ID: enterpriseID}})
	if err != nil {
		return nil, err
	}
	out := make([]Installation, 0, len(gs))
	for _, g := range gs {
		app, err := s.Store.GetApp(ctx, g.AppID)
		if err != nil {
			return nil, err
		}
		in := Installation{Grant: g, App: app}
		if g.CreatedBy != "" {
			if u, err := s.Store.GetUser(ctx, g.CreatedBy); err == nil {
				in.InstalledBy = u
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		out = append(out, in)
	}
	return out, nil
}

// ---- workspace migration

// Affected is one credential that loses access to migrated workspaces: the
// checklist entry of the migration.
type Affected struct {
	Type       string   `json:"type"` // "pat", "app_auth" or "obo"
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Workspaces []string `json:"workspaces"`
}

// Plan is a migration checked and ready to run: the workspaces, the accounts
// and the checklist.
type Plan struct {
	Workspaces []store.Workspace
	From, To   store.Owner
	By         string
	Affected   []Affected
}

// PlanMigration checks that by may move the personal workspaces into the
// enterprise — they are all in by's personal account, by owns each of them
// and administers the enterprise — and lists every credential that will
// lose access: PATs, AppAuth authorizations and OBO grants of the personal
// account that reach any of them, each with the workspaces it loses.
func (s *Service) PlanMigration(ctx context.Context, workspaceIDs []string, enterpriseID, by string) (Plan, error) {
	if len(workspaceIDs) == 0 {
		return Plan{}, invalid("name at least one workspace to migrate")
	}
	u, err := s.Store.GetUser(ctx, by)
	if errors.Is(err, store.ErrNotFound) {
		return Plan{}, fmt.Errorf("%w: user %q not found", store.ErrNotFound, by)
	} else if err != nil {
		return Plan{}, err
	}
	if _, err := s.enterprise(ctx, enterpriseID); err != nil {
		return Plan{}, err
	}
	if _, err := s.requireAdmin(ctx, enterpriseID, by, "migrate workspaces into it"); err != nil {
		return Plan{}, err
	}
	p := Plan{From: u.Account(), To: store.Owner{Type: store.OwnerEnterprise, ID: enterpriseID}, By: by}
	for _, id := range workspaceIDs {
		if slices.ContainsFunc(p.Workspaces, func(w store.Workspace) bool { return w.ID == id }) {
			continue
		}
		ws, err := s.Store.GetWorkspace(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return Plan{}, fmt.Errorf("%w: workspace %q not found", store.ErrNotFound, id)
		} else if err != nil {
			return Plan{}, err
		}
		if ws.Owner == p.To {
			return Plan{}, invalid("workspace %q is already in enterprise %q", id, enterpriseID)
		}
		if ws.Owner != p.From {
			return Plan{}, invalid("workspace %q is not a personal workspace of %s", id, u.Username)
		}
		m, err := s.Store.GetWorkspaceMember(ctx, id, by)
		if errors.Is(err, store.ErrNotFound) || (err == nil && m.Role != store.WorkspaceRoleOwner) {
			return Plan{}, invalid("only the owner of workspace %q can migrate it", id)
		} else if err != nil {
			return Plan{}, err
		}
		p.Workspaces = append(p.Workspaces, ws)
	}
	p.Affected, err = s.affected(ctx, p.From, p.Workspaces)
	return p, err
}

// affected lists what in account from reaches any of the workspaces.
func (s *Service) affected(ctx context.Context, from store.Owner, wss []store.Workspace) ([]Affected, error) {
	lost := func(all bool, listed []string) []string {
		var out []string
		for _, ws := range wss {
			if all || slices.Contains(listed, ws.ID) {
				out = append(out, ws.ID)
			}
		}
		return out
	}
	var out []Affected
	pats, err := s.Store.ListCredentials(ctx, store.CredentialFilter{Kind: store.KindPAT, Owner: from})
	if err != nil {
		return nil, err
	}
	for _, c := range pats {
		if ws := lost(c.AllWorkspaces, c.WorkspaceIDs); len(ws) > 0 {
			out = append(out, Affected{Type: "pat", ID: c.ID, Name: c.Name, Workspaces: ws})
		}
	}
	grants, err := s.Store.ListGrants(ctx, store.GrantFilter{Owner: from})
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		ws := lost(g.AllWorkspaces, g.WorkspaceIDs)
		if len(ws) == 0 {
			continue
		}
		app, err := s.Store.GetApp(ctx, g.AppID)
		if err != nil {
			return nil, err
		}
		out = append(out, Affected{Type: string(g.Kind), ID: g.ID, Name: app.Name, Workspaces: ws})
	}
	return out, nil
}

// Migrate moves the plan's workspaces, with their resources, into the
// enterprise in one transaction that also writes the audit event. It fails
// whole if any workspace was moved meanwhile.
func (s *Service) Migrate(ctx context.Context, p Plan) error {
	ids := make([]string, len(p.Workspaces))
	for i, ws := range p.Workspaces {
		ids[i] = ws.ID
	}
	affected := p.Affected
	if affected == nil {
		affected = []Affected{}
	}
	ev := s.audit(ctx, p.By, "workspace.migrate", "enterprise", p.To.ID, map[string]any{
		"workspaces": ids, "from_account": p.From.ID, "to_enterprise": p.To.ID, "affected": affected,
	})
	if err := s.Store.MigrateWorkspaces(ctx, ids, p.From, p.To, ev); err != nil {
		return err
	}
	s.changed()
	return nil
}
