package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/gateway"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// adminEnv is what every admin command works with: the store and the
// services over it. The admin CLI writes the same database a running server
// reads; servers pick the changes up through the store's revision.
type adminEnv struct {
	store *sqlstore.DB
	ids   *identity.Service
	creds *credential.Manager
	oauth *oauth.Service
	ent   *enterprise.Service
}

func newAdmin() *cobra.Command {
	var dsn string
	var create bool
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Bootstrap and automate: users, enterprises, workspaces, resources, PATs and SATs (JSON output)",
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", "cozeauth.db", "database: a SQLite file path, sqlite:PATH, or postgres://…")
	cmd.PersistentFlags().Bool("json", true, "print JSON (the only output format)")
	cmd.PersistentFlags().BoolVar(&create, "create", false, "create the SQLite database when it does not exist (otherwise a missing file is an error)")
	// run opens the store, runs fn and prints its result as one JSON object.
	run := func(fn func(ctx context.Context, env *adminEnv) (any, error)) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, args []string) error {
			// Every change the CLI makes is audited with the "cli" actor.
			ctx := store.WithActor(cmd.Context(), store.Actor{Type: store.ActorCLI})
			var opts []sqlstore.Option
			if !create {
				opts = append(opts, sqlstore.MustExist())
			}
			s, err := sqlstore.Open(ctx, dsn, opts...)
			if err != nil {
				return err
			}
			defer s.Close()
			env := &adminEnv{
				store: s,
				ids:   &identity.Service{Store: s, Now: time.Now, ResourceTypes: permission.Default().ResourceTypes()},
				creds: &credential.Manager{Store: s, Catalog: permission.Default(), Now: time.Now},
				oauth: (&oauth.Service{Store: s, Catalog: permission.Default(), Lifetimes: oauth.DefaultLifetimes(),
					Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(&cache.Generation{}),
			}
			env.ent = &enterprise.Service{Store: s, OAuth: env.oauth, Catalog: permission.Default(), Now: time.Now}
			if err := env.resolveRefs(ctx, cmd); err != nil {
				return cliError(err)
			}
			out, err := fn(ctx, env)
			if err != nil {
				return cliError(err)
			}
			return printJSON(cmd, out)
		}
	}
	cmd.AddCommand(adminUser(run), adminEnterprise(run), adminWorkspace(run), adminResource(run),
		adminCredential(run, store.KindPAT), adminCredential(run, store.KindSAT), adminApp(run), adminAccount(run), adminAudit(run))
	return cmd
}

type runner func(fn func(ctx context.Context, env *adminEnv) (any, error)) func(*cobra.Command, []string) error

// cliError drops the sentinel prefixes that only matter to code.
func cliError(err error) error {
	msg := err.Error()
	for _, sentinel := range []error{identity.ErrInvalid, credential.ErrInvalid, oauth.ErrInvalidApp, enterprise.ErrInvalid, store.ErrNotFound, store.ErrInvalid} {
		if errors.Is(err, sentinel) {
			msg = strings.TrimPrefix(msg, sentinel.Error()+": ")
		}
	}
	return errors.New(msg)
}

func printJSON(cmd *cobra.Command, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), string(b))
	return err
}

func required(cmd *cobra.Command, names ...string) {
	for _, n := range names {
		_ = cmd.MarkFlagRequired(n)
	}
}

func leaf(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
}

// readPassword reads a password given with --password-stdin: standard
// input up to 4 KiB, without the line ending.
func readPassword(cmd *cobra.Command) (string, error) {
	pw, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
	return strings.TrimRight(string(pw), "\r\n"), err
}

func adminUser(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage users"}
	var username, nickname string
	var pwStdin bool
	create := leaf("create", "Create a user (the password is read from stdin)")
	create.Flags().StringVar(&username, "username", "", "login name")
	create.Flags().StringVar(&nickname, "nickname", "", "display name (default: the username)")
	create.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	required(create, "username", "password-stdin")
	create.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		pw, err := readPassword(create)
		if err != nil {
			return nil, err
		}
		u, err := env.ids.CreateUser(ctx, username, pw, nickname)
		if err != nil {
			return nil, err
		}
		return map[string]string{"user_id": u.ID, "account_id": u.AccountID}, nil
	})
	list := leaf("list", "List users")
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		us, err := env.store.ListUsers(ctx)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, u := range us {
			out = append(out, map[string]any{"user_id": u.ID, "username": u.Username, "nickname": u.Nickname,
				"avatar_url": u.AvatarURL, "account_id": u.AccountID, "created_at": u.CreatedAt})
		}
		return map[string]any{"users": out}, nil
	})
	var user, keyFile string
	setUp := leaf("set-upstream-token", "Set the user's own credential for the gateway's upstream (read from stdin, stored encrypted)")
	setUp.Flags().StringVar(&user, "user", "", "username or user ID")
	setUp.Flags().StringVar(&keyFile, "secret-key-file", "", "the server's --secret-key-file (32 bytes, hex or base64)")
	required(setUp, "user", "secret-key-file")
	setUp.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		sealer, err := gateway.LoadSealer(keyFile)
		if err != nil {
			return nil, err
		}
		u, err := env.ids.ResolveUser(ctx, user)
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(setUp.InOrStdin(), 8192))
		if err != nil {
			return nil, err
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" || strings.ContainsAny(tok, " \t\r\n") {
			return nil, errors.New("give the upstream token on standard input, on one line")
		}
		sealed, err := sealer.Seal(u.ID, tok)
		if err != nil {
			return nil, err
		}
		if err := env.store.PutUpstreamToken(ctx, u.ID, sealed, time.Now().Unix()); err != nil {
			return nil, err
		}
		return map[string]string{"user_id": u.ID}, nil
	})
	delUp := leaf("delete-upstream-token", "Remove the user's own upstream credential (the gateway falls back to --upstream-token)")
	delUp.Flags().StringVar(&user, "user", "", "username or user ID")
	required(delUp, "user")
	delUp.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		u, err := env.ids.ResolveUser(ctx, user)
		if err != nil {
			return nil, err
		}
		if err := env.store.DeleteUpstreamToken(ctx, u.ID); errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("user %q has no upstream token", user)
		} else if err != nil {
			return nil, err
		}
		return map[string]any{"user_id": u.ID, "upstream_token": false}, nil
	})
	setPW := leaf("set-password", "Set a user's password (read from stdin); every session of the user ends")
	setPW.Flags().StringVar(&user, "user", "", "username or user ID")
	setPW.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password from standard input")
	required(setPW, "user", "password-stdin")
	setPW.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		pw, err := readPassword(setPW)
		if err != nil {
			return nil, err
		}
		u, err := env.ids.SetPassword(ctx, user, pw, "")
		if err != nil {
			return nil, err
		}
		return map[string]any{"user_id": u.ID, "username": u.Username, "password_set": true, "sessions_ended": true}, nil
	})
	var avatar string
	update := leaf("update", "Change a user's nickname or avatar URL")
	update.Flags().StringVar(&user, "user", "", "username or user ID")
	update.Flags().StringVar(&nickname, "nickname", "", "display name (empty: the username)")
	update.Flags().StringVar(&avatar, "avatar-url", "", "http(s) URL of the avatar image (empty: a generated one)")
	required(update, "user")
	update.MarkFlagsOneRequired("nickname", "avatar-url")
	update.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		var nick, av *string
		if update.Flags().Changed("nickname") {
			nick = &nickname
		}
		if update.Flags().Changed("avatar-url") {
			av = &avatar
		}
		u, err := env.ids.UpdateProfile(ctx, user, nick, av)
		if err != nil {
			return nil, err
		}
		return map[string]any{"user_id": u.ID, "username": u.Username, "nickname": u.Nickname, "avatar_url": u.AvatarURL,
			"account_id": u.AccountID, "created_at": u.CreatedAt}, nil
	})
	var yes bool
	del := leaf("delete", "Delete a user who is in no enterprise, with their personal account: its workspaces, PATs, apps and authorizations")
	del.Flags().StringVar(&user, "user", "", "username or user ID")
	del.Flags().BoolVar(&yes, "yes", false, "confirm: this cannot be undone")
	required(del, "user")
	del.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		u, err := env.ids.ResolveUser(ctx, user)
		if err != nil {
			return nil, err
		}
		wss, err := env.store.ListWorkspacesByOwner(ctx, u.Account())
		if err != nil {
			return nil, err
		}
		pats, err := env.store.ListCredentials(ctx, store.CredentialFilter{UserID: u.ID})
		if err != nil {
			return nil, err
		}
		apps, err := env.store.ListAppsByOwner(ctx, u.Account())
		if err != nil {
			return nil, err
		}
		if !yes {
			return nil, fmt.Errorf("deleting %s also deletes %d personal workspace(s), %d token(s) and %d app(s) and cannot be undone; pass --yes to confirm",
				u.Username, len(wss), len(pats), len(apps))
		}
		if _, err := env.ids.DeleteUser(ctx, u.ID); err != nil {
			return nil, err
		}
		return map[string]any{"user_id": u.ID, "username": u.Username, "deleted": true,
			"workspaces_deleted": len(wss), "tokens_deleted": len(pats), "apps_deleted": len(apps)}, nil
	})
	cmd.AddCommand(create, list, update, setPW, del, setUp, delUp)
	return cmd
}

func adminEnterprise(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "enterprise", Short: "Manage enterprises"}
	var name, superAdmin string
	create := leaf("create", "Create an enterprise with a SuperAdmin")
	create.Flags().StringVar(&name, "name", "", "enterprise name")
	create.Flags().StringVar(&superAdmin, "super-admin", "", "the SuperAdmin (username or user ID)")
	required(create, "name", "super-admin")
	create.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		e, err := env.ids.CreateEnterprise(ctx, name, superAdmin)
		if err != nil {
			return nil, err
		}
		return map[string]string{"enterprise_id": e.ID}, nil
	})
	var ent, user, role string
	add := leaf("add-member", "Add a member to an enterprise, or change their role")
	add.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
	add.Flags().StringVar(&user, "user", "", "username or user ID")
	add.Flags().StringVar(&role, "role", "", "Admin, Member or Guest, in any case (also enterprise_admin, enterprise_member)")
	required(add, "enterprise", "user", "role")
	add.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		r, err := enterprise.ParseRole(role)
		if err != nil {
			return nil, err
		}
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		if err := env.ids.AddEnterpriseMember(ctx, ent, user, r); err != nil {
			return nil, err
		}
		m, err := env.store.GetEnterpriseMember(ctx, ent, user)
		if err != nil {
			return nil, err
		}
		return map[string]any{"enterprise_id": m.EnterpriseID, "user_id": m.UserID, "role": m.Role, "created_at": m.CreatedAt}, nil
	})
	var appID, by string
	install := leaf("install-app", "Install a jwt (Service) app in an enterprise, for all its workspaces")
	install.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
	install.Flags().StringVar(&appID, "app", "", "app ID")
	install.Flags().StringVar(&by, "by", "", "the SuperAdmin or Admin installing it (username or user ID)")
	required(install, "enterprise", "app", "by")
	install.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &by); err != nil {
			return nil, err
		}
		g, err := env.ent.Install(ctx, appID, ent, by)
		if err != nil {
			return nil, err
		}
		return map[string]string{"installation_id": g.ID}, nil
	})
	uninstall := leaf("uninstall-app", "Remove an app's installation from an enterprise; its tokens stop at once")
	uninstall.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
	uninstall.Flags().StringVar(&appID, "app", "", "app ID")
	uninstall.Flags().StringVar(&by, "by", "", "the SuperAdmin or Admin removing it (username or user ID; default: the operator)")
	required(uninstall, "enterprise", "app")
	uninstall.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &by); err != nil {
			return nil, err
		}
		if err := env.ent.Uninstall(ctx, appID, ent, by); err != nil {
			return nil, err
		}
		return map[string]any{"enterprise_id": ent, "app_id": appID, "installed": false}, nil
	})
	var receiver string
	remove := leaf("remove-member", "Remove a member from an enterprise; the workspaces they owned go to the receiver")
	remove.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
	remove.Flags().StringVar(&user, "user", "", "the member to remove (username or user ID)")
	remove.Flags().StringVar(&receiver, "receiver", "", "the member who receives their workspaces (username or user ID)")
	required(remove, "enterprise", "user", "receiver")
	remove.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &user, &receiver); err != nil {
			return nil, err
		}
		if err := env.ent.RemoveMember(ctx, ent, "", user, receiver); err != nil {
			return nil, err
		}
		return map[string]any{"enterprise_id": ent, "user_id": user, "removed": true, "receiver_id": receiver}, nil
	})
	list := leaf("list", "List enterprises")
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		es, err := env.store.ListEnterprises(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]map[string]any, 0, len(es))
		for _, e := range es {
			out = append(out, map[string]any{"enterprise_id": e.ID, "name": e.Name, "created_at": e.CreatedAt})
		}
		return map[string]any{"enterprises": out}, nil
	})
	cmd.AddCommand(create, list, add, install, uninstall, remove)
	return cmd
}

func adminWorkspace(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "workspace", Short: "Manage workspaces"}
	var id, name, owner, ent string
	create := leaf("create", "Create a workspace owned by a user's personal account or by an enterprise")
	create.Flags().StringVar(&id, "id", "", "workspace ID (default: generated), e.g. the upstream's space ID")
	create.Flags().StringVar(&name, "name", "", "workspace name")
	create.Flags().StringVar(&owner, "owner", "", "owning user (username or user ID); becomes the owner member")
	create.Flags().StringVar(&ent, "enterprise", "", "owning enterprise (ID or exact name)")
	required(create, "name")
	create.MarkFlagsMutuallyExclusive("owner", "enterprise")
	create.MarkFlagsOneRequired("owner", "enterprise")
	create.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		w, err := env.ids.CreateWorkspaceWithID(ctx, id, name, owner, ent)
		if err != nil {
			return nil, err
		}
		return map[string]string{"workspace_id": w.ID}, nil
	})
	var ws, user, role string
	add := leaf("add-member", "Add a member to a workspace, or change their role")
	add.Flags().StringVar(&ws, "workspace", "", "workspace ID")
	add.Flags().StringVar(&user, "user", "", "username or user ID")
	add.Flags().StringVar(&role, "role", "", "admin or member, in any case")
	required(add, "workspace", "user", "role")
	add.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		if err := env.ids.AddWorkspaceMember(ctx, ws, user, store.WorkspaceRole(strings.ToLower(role))); err != nil {
			return nil, err
		}
		m, err := env.store.GetWorkspaceMember(ctx, ws, user)
		if err != nil {
			return nil, err
		}
		return map[string]any{"workspace_id": m.WorkspaceID, "user_id": m.UserID, "role": m.Role, "created_at": m.CreatedAt}, nil
	})
	remove := leaf("remove-member", "Remove a member from a workspace")
	remove.Flags().StringVar(&ws, "workspace", "", "workspace ID")
	remove.Flags().StringVar(&user, "user", "", "username or user ID")
	required(remove, "workspace", "user")
	remove.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		if err := env.ids.RemoveWorkspaceMember(ctx, ws, user); err != nil {
			return nil, err
		}
		return map[string]any{"workspace_id": ws, "user_id": user, "removed": true}, nil
	})
	var wsIDs []string
	var by string
	var dryRun bool
	migrate := leaf("migrate", "Move personal workspaces (with their resources) into an enterprise; prints what loses access")
	migrate.Flags().StringArrayVar(&wsIDs, "workspace", nil, "workspace ID (repeatable)")
	migrate.Flags().StringVar(&ent, "enterprise", "", "the enterprise to move them into")
	migrate.Flags().StringVar(&by, "by", "", "the workspaces' owner, a SuperAdmin or Admin of the enterprise (username or user ID)")
	migrate.Flags().BoolVar(&dryRun, "dry-run", false, "only print the checklist of credentials that would lose access")
	required(migrate, "workspace", "enterprise", "by")
	migrate.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &by); err != nil {
			return nil, err
		}
		plan, err := env.ent.PlanMigration(ctx, wsIDs, ent, by)
		if err != nil {
			return nil, err
		}
		if !dryRun {
			if err := env.ent.Migrate(ctx, plan); err != nil {
				return nil, err
			}
		}
		affected := plan.Affected
		if affected == nil {
			affected = []enterprise.Affected{}
		}
		return map[string]any{"affected": affected, "migrated": !dryRun}, nil
	})
	list := leaf("list", "List workspaces: all, a user's personal ones (--owner) or an enterprise's (--enterprise)")
	list.Flags().StringVar(&owner, "owner", "", "owning user (username or user ID)")
	list.Flags().StringVar(&ent, "enterprise", "", "owning enterprise (ID or exact name)")
	list.MarkFlagsMutuallyExclusive("owner", "enterprise")
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		var owners []store.Owner
		switch {
		case owner != "":
			u, err := env.ids.ResolveUser(ctx, owner)
			if err != nil {
				return nil, err
			}
			owners = append(owners, u.Account())
		case ent != "":
			owners = append(owners, store.Owner{Type: store.OwnerEnterprise, ID: ent})
		default:
			us, err := env.store.ListUsers(ctx)
			if err != nil {
				return nil, err
			}
			for _, u := range us {
				owners = append(owners, u.Account())
			}
			es, err := env.store.ListEnterprises(ctx)
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				owners = append(owners, store.Owner{Type: store.OwnerEnterprise, ID: e.ID})
			}
		}
		out := []map[string]any{}
		for _, o := range owners {
			wss, err := env.store.ListWorkspacesByOwner(ctx, o)
			if err != nil {
				return nil, err
			}
			for _, w := range wss {
				out = append(out, map[string]any{"workspace_id": w.ID, "name": w.Name, "account_type": w.Owner.Type,
					"account_id": w.Owner.ID, "created_at": w.CreatedAt})
			}
		}
		return map[string]any{"workspaces": out}, nil
	})
	cmd.AddCommand(create, list, add, remove, migrate)
	return cmd
}

// resolveRefs lets every command's --app take an app ID or a client ID, and
// its --enterprise an enterprise ID or exact name, by replacing the flag's
// value with the ID before the command runs.
func (env *adminEnv) resolveRefs(ctx context.Context, cmd *cobra.Command) error {
	if f := cmd.Flags().Lookup("app"); f != nil && f.Value.String() != "" {
		ref := f.Value.String()
		a, err := env.store.GetApp(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			a, err = env.store.GetAppByClientID(ctx, ref)
		}
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("no app with ID or client ID %q", ref)
		}
		if err != nil {
			return err
		}
		if err := f.Value.Set(a.ID); err != nil {
			return err
		}
	}
	if f := cmd.Flags().Lookup("enterprise"); f != nil && f.Value.String() != "" {
		ref := f.Value.String()
		_, err := env.store.GetEnterprise(ctx, ref)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			return err
		}
		all, err := env.store.ListEnterprises(ctx)
		if err != nil {
			return err
		}
		var ids []string
		for _, e := range all {
			if e.Name == ref {
				ids = append(ids, e.ID)
			}
		}
		switch len(ids) {
		case 0:
			return fmt.Errorf("no enterprise with ID or name %q", ref)
		case 1:
			return f.Value.Set(ids[0])
		default:
			return fmt.Errorf("enterprise name %q is ambiguous: pass one of the IDs %s", ref, strings.Join(ids, ", "))
		}
	}
	return nil
}

// resolveUsers turns each non-empty user reference (a username or a user
// ID, as --user, --by and --receiver take them) into the user's ID, in place.
func (env *adminEnv) resolveUsers(ctx context.Context, refs ...*string) error {
	for _, ref := range refs {
		if *ref == "" {
			continue
		}
		u, err := env.ids.ResolveUser(ctx, *ref)
		if err != nil {
			return err
		}
		*ref = u.ID
	}
	return nil
}

func adminAccount(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "account", Short: "Personal account resource authorization of enterprise credentials"}
	var user, cred, ent string
	flags := func(c *cobra.Command) {
		c.Flags().StringVar(&user, "user", "", "the account's user, a SuperAdmin or Admin of the credential's enterprise (username or user ID)")
		c.Flags().StringVar(&cred, "credential", "", "an enterprise PAT's ID, or the ID of a Service app installed in the enterprise")
		required(c, "user", "credential")
	}
	authorize := leaf("authorize-enterprise-credential", "Let an enterprise PAT or installed app reach the user's personal account-level resources")
	flags(authorize)
	authorize.Flags().StringVar(&ent, "enterprise", "", "the enterprise, when the app is installed in several of the user's enterprises")
	authorize.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		if err := env.ent.AuthorizeCredential(ctx, user, cred, ent); err != nil {
			return nil, err
		}
		return map[string]any{"account_id": user, "credential_id": cred, "authorized": true}, nil
	})
	revoke := leaf("revoke-enterprise-credential", "End such an authorization; it takes effect at once")
	flags(revoke)
	revoke.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		if err := env.ent.RevokeCredential(ctx, user, cred); err != nil {
			return nil, err
		}
		return map[string]any{"account_id": user, "credential_id": cred, "authorized": false}, nil
	})
	list := leaf("list-enterprise-credentials", "List the enterprise credentials the user can authorize, and which are")
	list.Flags().StringVar(&user, "user", "", "username or user ID")
	required(list, "user")
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		as, err := env.ent.Authorizables(ctx, user)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, a := range as {
			out = append(out, map[string]any{"kind": a.Kind, "id": a.ID, "name": a.Name, "enterprise_id": a.Enterprise.ID,
				"permissions": a.Permissions, "authorized": a.Authorized})
		}
		return map[string]any{"credentials": out}, nil
	})
	cmd.AddCommand(authorize, revoke, list)
	return cmd
}

func adminAudit(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log of security events"}
	var f store.AuditFilter
	var since, until string
	list := leaf("list", "List audit events, newest first")
	list.Flags().StringVar(&f.ActorID, "actor", "", "only events by this user ID")
	list.Flags().StringVar(&f.Action, "action", "", `only this action (e.g. pat.create), or every action under a prefix ending in "." (e.g. app.)`)
	list.Flags().StringVar(&f.TargetType, "target-type", "", "only targets of this type")
	list.Flags().StringVar(&f.TargetID, "target-id", "", "only this target")
	list.Flags().StringVar(&since, "since", "", "only events at or after this time (RFC 3339 or Unix seconds)")
	list.Flags().StringVar(&until, "until", "", "only events at or before this time (RFC 3339 or Unix seconds)")
	list.Flags().StringVar(&f.Before, "before", "", "pagination: only events listed after this event ID (the next_before of the previous page)")
	list.Flags().IntVar(&f.Limit, "limit", 100, "at most this many events (0: all)")
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		var err error
		if f.Since, err = parseTime("since", since); err != nil {
			return nil, err
		}
		if f.Until, err = parseTime("until", until); err != nil {
			return nil, err
		}
		if f.Limit < 0 {
			return nil, fmt.Errorf("--limit must be 0 or more")
		}
		es, err := env.store.ListAudit(ctx, f)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, e := range es {
			out = append(out, map[string]any{"id": e.ID, "at": e.At, "actor_id": e.ActorID, "actor_type": e.ActorType,
				"action": e.Action, "target_type": e.TargetType, "target_id": e.TargetID, "enterprise_id": e.EnterpriseID,
				"ip": e.IP, "logid": e.LogID, "detail": json.RawMessage(e.Detail)})
		}
		res := map[string]any{"events": out}
		if f.Limit > 0 && len(es) == f.Limit {
			res["next_before"] = es[len(es)-1].ID
		}
		return res, nil
	})
	cmd.AddCommand(list)
	return cmd
}

// parseTime reads a flag's time: RFC 3339 or Unix seconds; "" is 0 (no bound).
func parseTime(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want RFC 3339 (2026-01-02T15:04:05Z) or Unix seconds", name, v)
	}
	return t.Unix(), nil
}

func adminResource(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "resource", Short: "Register resources (bots, workflows, …) in workspaces"}
	var ws, typ, id string
	create := leaf("create", "Register a resource in a workspace")
	create.Flags().StringVar(&ws, "workspace", "", "workspace ID")
	create.Flags().StringVar(&typ, "type", "", "resource type: "+strings.Join(permission.Default().ResourceTypes(), ", "))
	create.Flags().StringVar(&id, "id", "", "resource ID (default: generated)")
	required(create, "workspace", "type")
	create.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		r, err := env.ids.CreateResource(ctx, ws, typ, id)
		if err != nil {
			return nil, err
		}
		return map[string]string{"resource_id": r.ID}, nil
	})
	cmd.AddCommand(create)
	return cmd
}

// scopeFlags are the expiry and permission flags PAT and SAT commands share.
type scopeFlags struct {
	days        int
	expiresAt   int64
	permanent   bool
	permissions []string
	workspaces  string
}

func (f *scopeFlags) addExpiry(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.days, "days", 0, "lifetime in days: 1, 30, 90, 180 or 365")
	cmd.Flags().Var((*expiresAtFlag)(&f.expiresAt), "expires-at", "custom expiry: YYYY-MM-DD (the end of that day, UTC), RFC 3339, or Unix seconds")
	cmd.Flags().BoolVar(&f.permanent, "permanent", false, "never expires")
	cmd.MarkFlagsMutuallyExclusive("days", "expires-at", "permanent")
	cmd.MarkFlagsOneRequired("days", "expires-at", "permanent")
}

func (f *scopeFlags) addScope(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&f.permissions, "permission", nil, "a permission from the catalog, e.g. Bot.chat (repeatable)")
	cmd.Flags().StringVar(&f.workspaces, "workspaces", "", `"all", or a comma-separated list of workspace IDs`)
}

// expiresAtFlag is --expires-at: a date (the end of that day in UTC), an
// RFC 3339 time, or Unix seconds, held as Unix seconds.
type expiresAtFlag int64

func (e *expiresAtFlag) String() string {
	if *e == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*e), 10)
}

func (e *expiresAtFlag) Type() string { return "time" }

func (e *expiresAtFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
		*e = expiresAtFlag(n)
		return nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		*e = expiresAtFlag(t.Add(24*time.Hour - time.Second).Unix())
		return nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*e = expiresAtFlag(t.Unix())
		return nil
	}
	return fmt.Errorf("want YYYY-MM-DD, an RFC 3339 time or Unix seconds")
}

// workspaceOption parses --workspaces: "all" or W1,W2.
func workspaceOption(s string) (all bool, ids []string, err error) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return true, nil, nil
	}
	if s == "" {
		return false, nil, nil
	}
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id == "" {
			return false, nil, fmt.Errorf("--workspaces %q: empty workspace ID in the list", s)
		}
		ids = append(ids, id)
	}
	return false, ids, nil
}

func adminCredential(run runner, kind store.CredentialKind) *cobra.Command {
	noun, long := "pat", "personal access tokens"
	if kind == store.KindSAT {
		noun, long = "sat", "service access tokens of enterprise service identities"
	}
	cmd := &cobra.Command{Use: noun, Short: "Manage " + long}

	var sf scopeFlags
	var user, name, ent string
	create := leaf("create", "Create a token; it is printed once and only its hash is stored")
	create.Flags().StringVar(&name, "name", "", "token name")
	create.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
	if kind == store.KindPAT {
		create.Flags().StringVar(&user, "user", "", "owner (username or user ID)")
		create.Flags().Lookup("enterprise").Usage = "create the token in this enterprise (the user must be a member) instead of the personal account"
		required(create, "user", "name")
	} else {
		create.Flags().StringVar(&user, "by", "", "the enterprise admin creating it (username or user ID; optional)")
		required(create, "enterprise", "name")
	}
	sf.addExpiry(create)
	sf.addScope(create)
	create.Flags().Lookup("workspaces").Usage = `"all" (the default, as in the console), or a comma-separated list of workspace IDs`
	create.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if !create.Flags().Changed("workspaces") {
			sf.workspaces = "all"
		}
		all, wsIDs, err := workspaceOption(sf.workspaces)
		if err != nil {
			return nil, err
		}
		spec := credential.Spec{Kind: kind, Name: name, EnterpriseID: ent, Permissions: sf.permissions,
			AllWorkspaces: all, WorkspaceIDs: wsIDs,
			Expiry: credential.Expiry{Days: sf.days, At: sf.expiresAt, Permanent: sf.permanent}}
		if err := env.resolveUsers(ctx, &user); err != nil {
			return nil, err
		}
		spec.UserID = user
		c, err := env.creds.Create(ctx, spec)
		if err != nil {
			return nil, err
		}
		return map[string]any{"id": c.Credential.ID, "token": c.Token, "expire_at": credential.OrMinusOne(c.Credential.ExpireAt)}, nil
	})

	list := leaf("list", "List tokens (never their values)")
	listKey := "personal_access_tokens"
	if kind == store.KindPAT {
		list.Flags().StringVar(&user, "user", "", "owner (username or user ID)")
		required(list, "user")
	} else {
		listKey = "service_access_tokens"
		list.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
		required(list, "enterprise")
	}
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		f := store.CredentialFilter{Kind: kind}
		if kind == store.KindPAT {
			if err := env.resolveUsers(ctx, &user); err != nil {
				return nil, err
			}
			f.UserID = user
		} else {
			if _, err := env.ids.GetEnterprise(ctx, ent); err != nil {
				return nil, err
			}
			f.Owner = store.Owner{Type: store.OwnerEnterprise, ID: ent}
		}
		cs, err := env.store.ListCredentials(ctx, f)
		if err != nil {
			return nil, err
		}
		out := make([]credential.Listing, 0, len(cs))
		for _, c := range cs {
			out = append(out, credential.Describe(c))
		}
		return map[string]any{listKey: out}, nil
	})

	var id string
	var usf scopeFlags
	update := leaf("update", "Rename a token or change its permissions and workspaces")
	update.Flags().StringVar(&id, "id", "", "token ID")
	update.Flags().StringVar(&name, "name", "", "new name")
	usf.addScope(update)
	required(update, "id")
	update.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := checkKind(ctx, env, id, kind); err != nil {
			return nil, err
		}
		var ch credential.Change
		if update.Flags().Changed("name") {
			ch.Name = &name
		}
		if update.Flags().Changed("permission") {
			ch.Permissions = &usf.permissions
		}
		if update.Flags().Changed("workspaces") {
			all, ids, err := workspaceOption(usf.workspaces)
			if err != nil {
				return nil, err
			}
			ch.AllWorkspaces, ch.WorkspaceIDs = &all, &ids
		}
		c, err := env.creds.Update(ctx, id, ch)
		if err != nil {
			return nil, err
		}
		return credential.Describe(c), nil
	})

	del := leaf("delete", "Delete (revoke) a token")
	del.Flags().StringVar(&id, "id", "", "token ID")
	required(del, "id")
	del.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := checkKind(ctx, env, id, kind); err != nil {
			return nil, err
		}
		if err := env.creds.Delete(ctx, id); err != nil {
			return nil, err
		}
		return map[string]any{"id": id, "deleted": true}, nil
	})
	cmd.AddCommand(create, list, update, del)
	return cmd
}

// checkKind keeps `pat delete` from deleting a SAT and vice versa.
func checkKind(ctx context.Context, env *adminEnv, id string, kind store.CredentialKind) error {
	c, err := env.store.GetCredential(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.Kind != kind) {
		return fmt.Errorf("no %s with id %q", kind, id)
	}
	return err
}
