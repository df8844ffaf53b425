package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/samples"
	"github.com/cozeauth/cozeauth/internal/store"
)

// clientTypes maps the CLI's short names to Coze's client types.
var clientTypes = map[string]store.ClientType{
	"web":    store.ClientWebBackend,
	"pkce":   store.ClientSinglePageOrNative,
	"device": store.ClientTerminal,
	"jwt":    store.ClientService,
}

func appJSON(a store.App) map[string]any {
	return map[string]any{"app_id": a.ID, "client_id": a.ClientID, "name": a.Name, "client_type": a.ClientType,
		"account_type": a.Owner.Type, "account_id": a.Owner.ID, "redirect_uris": nonNil(a.RedirectURIs),
		"permissions": nonNil(a.Permissions), "active": a.Active, "created_at": a.CreatedAt}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func adminApp(run runner) *cobra.Command {
	cmd := &cobra.Command{Use: "app", Short: "Manage OAuth apps"}

	var owner, ent, typ, name, desc, by string
	var uris, perms []string
	create := leaf("create", "Create an OAuth app; a web app's first client secret is printed once")
	create.Flags().StringVar(&owner, "owner", "", "owning user (username or user ID): the app belongs to their personal account")
	create.Flags().StringVar(&ent, "enterprise", "", "owning enterprise (ID or exact name)")
	create.Flags().StringVar(&by, "by", "", "the enterprise member creating it (with --enterprise; optional)")
	create.Flags().StringVar(&typ, "type", "", "web (WebBackend), pkce (SinglePageOrNative), device (Terminal) or jwt (Service)")
	create.Flags().StringVar(&name, "name", "", "app name")
	create.Flags().StringVar(&desc, "description", "", "description")
	create.Flags().StringArrayVar(&uris, "redirect-uri", nil, "redirect URI, matched exactly (repeatable; web and pkce)")
	create.Flags().StringArrayVar(&perms, "permission", nil, "declared permission (repeatable)")
	required(create, "type", "name")
	create.MarkFlagsMutuallyExclusive("owner", "enterprise")
	create.MarkFlagsOneRequired("owner", "enterprise")
	create.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		ct, ok := clientTypes[typ]
		if !ok {
			if st := store.ClientType(typ); st.Valid() {
				ct = st
			} else {
				return nil, fmt.Errorf("--type %q: want web, pkce, device or jwt", typ)
			}
		}
		spec := oauth.AppSpec{Type: ct, Name: name, Description: desc, RedirectURIs: uris, Permissions: perms}
		if owner != "" {
			u, err := env.ids.ResolveUser(ctx, owner)
			if err != nil {
				return nil, err
			}
			spec.Owner, spec.CreatedBy = u.Account(), u.ID
		} else {
			if _, err := env.ids.GetEnterprise(ctx, ent); err != nil {
				return nil, err
			}
			spec.Owner = store.Owner{Type: store.OwnerEnterprise, ID: ent}
			if by != "" {
				u, err := env.ids.ResolveUser(ctx, by)
				if err != nil {
					return nil, err
				}
				if _, err := env.store.GetEnterpriseMember(ctx, ent, u.ID); err != nil {
					return nil, fmt.Errorf("user %q is not a member of enterprise %q", by, ent)
				}
				spec.CreatedBy = u.ID
			}
		}
		app, secret, err := env.oauth.CreateApp(ctx, spec)
		if err != nil {
			return nil, err
		}
		out := map[string]any{"app_id": app.ID, "client_id": app.ClientID}
		if secret != "" {
			out["client_secret"] = secret
		}
		return out, nil
	})

	var appID string
	appFlag := func(c *cobra.Command) {
		c.Flags().StringVar(&appID, "app", "", "app ID or client ID")
		required(c, "app")
	}

	list := leaf("list", "List the apps of a user's personal account or of an enterprise")
	list.Flags().StringVar(&owner, "owner", "", "username or user ID")
	list.Flags().StringVar(&ent, "enterprise", "", "enterprise ID or exact name")
	list.MarkFlagsMutuallyExclusive("owner", "enterprise")
	list.MarkFlagsOneRequired("owner", "enterprise")
	list.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		o := store.Owner{Type: store.OwnerEnterprise, ID: ent}
		if owner != "" {
			u, err := env.ids.ResolveUser(ctx, owner)
			if err != nil {
				return nil, err
			}
			o = u.Account()
		}
		apps, err := env.store.ListAppsByOwner(ctx, o)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, a := range apps {
			out = append(out, appJSON(a))
		}
		return map[string]any{"apps": out}, nil
	})

	addSecret := leaf("add-secret", "Add a client secret to a web app; it is printed once")
	appFlag(addSecret)
	addSecret.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		sec, secret, err := env.oauth.AddSecret(ctx, appID)
		if err != nil {
			return nil, err
		}
		return map[string]string{"secret_id": sec.ID, "client_secret": secret}, nil
	})

	var keyFile string
	addKey := leaf("add-key", "Register an RSA public key (PEM) of a jwt app")
	appFlag(addKey)
	addKey.Flags().StringVar(&keyFile, "public-key-file", "", "PEM file with the public key")
	required(addKey, "public-key-file")
	addKey.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		pemText, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, err
		}
		k, err := env.oauth.AddKey(ctx, appID, string(pemText))
		if err != nil {
			return nil, err
		}
		return map[string]string{"public_key_id": k.ID}, nil
	})

	genKey := leaf("gen-key", "Generate a key pair for a jwt app; the PKCS#8 private key is printed once")
	appFlag(genKey)
	genKey.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		k, priv, err := env.oauth.GenerateKey(ctx, appID)
		if err != nil {
			return nil, err
		}
		return map[string]string{"public_key_id": k.ID, "private_key": priv}, nil
	})

	var user, workspaces string
	authorize := leaf("authorize", "Authorize a jwt (Service) app to act in a user's personal account")
	appFlag(authorize)
	authorize.Flags().StringVar(&user, "user", "", "username or user ID")
	authorize.Flags().StringVar(&workspaces, "workspaces", "all", `"all", or a comma-separated list of workspace IDs`)
	required(authorize, "user")
	authorize.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		u, err := env.ids.ResolveUser(ctx, user)
		if err != nil {
			return nil, err
		}
		all, ids, err := workspaceOption(workspaces)
		if err != nil {
			return nil, err
		}
		g, err := env.oauth.AuthorizeApp(ctx, appID, u.ID, all, ids)
		if err != nil {
			return nil, err
		}
		return map[string]any{"grant_id": g.ID, "app_id": appID, "account_id": u.AccountID, "all_workspaces": g.AllWorkspaces,
			"workspace_ids": nonNil(g.WorkspaceIDs)}, nil
	})

	deactivate := leaf("deactivate", "Deactivate an app: every token it holds stops working")
	appFlag(deactivate)
	deactivate.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.oauth.Deactivate(ctx, appID); err != nil {
			return nil, err
		}
		a, err := env.store.GetApp(ctx, appID)
		if err != nil {
			return nil, err
		}
		return appJSON(a), nil
	})

	activate := leaf("activate", "Reactivate a deactivated app; the tokens it held before stay revoked")
	appFlag(activate)
	activate.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		a, err := env.oauth.Activate(ctx, appID)
		if err != nil {
			return nil, err
		}
		return appJSON(a), nil
	})

	del := leaf("delete", "Delete an app with its secrets, keys, authorizations and tokens")
	appFlag(del)
	del.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.oauth.DeleteApp(ctx, appID); err != nil {
			return nil, err
		}
		return map[string]any{"app_id": appID, "deleted": true}, nil
	})
	secrets := leaf("secrets", "List a web app's client secrets, masked")
	appFlag(secrets)
	secrets.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if _, err := env.oauth.GetApp(ctx, appID); err != nil {
			return nil, err
		}
		ss, err := env.store.ListAppSecrets(ctx, appID)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, sec := range ss {
			out = append(out, map[string]any{"secret_id": sec.ID, "masked": "czs_…" + sec.Hint, "label": sec.Label, "created_at": sec.CreatedAt})
		}
		return map[string]any{"client_secrets": out}, nil
	})

	var secretID string
	delSecret := leaf("delete-secret", "Delete a client secret: clients using it can no longer authenticate")
	appFlag(delSecret)
	delSecret.Flags().StringVar(&secretID, "secret-id", "", "secret ID (from app secrets)")
	required(delSecret, "secret-id")
	delSecret.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.oauth.DeleteSecret(ctx, appID, secretID); err != nil {
			return nil, err
		}
		return map[string]any{"app_id": appID, "secret_id": secretID, "deleted": true}, nil
	})

	keys := leaf("keys", "List a jwt app's public keys (their IDs are the JWT kid)")
	appFlag(keys)
	keys.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if _, err := env.oauth.GetApp(ctx, appID); err != nil {
			return nil, err
		}
		ks, err := env.store.ListAppKeys(ctx, appID)
		if err != nil {
			return nil, err
		}
		out := []map[string]any{}
		for _, k := range ks {
			out = append(out, map[string]any{"public_key_id": k.ID, "label": k.Label, "created_at": k.CreatedAt})
		}
		return map[string]any{"public_keys": out}, nil
	})

	var keyID string
	delKey := leaf("delete-key", "Delete a public key: JWTs signed with it are refused")
	appFlag(delKey)
	delKey.Flags().StringVar(&keyID, "public-key-id", "", "public key ID")
	required(delKey, "public-key-id")
	delKey.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := env.oauth.DeleteKey(ctx, appID, keyID); err != nil {
			return nil, err
		}
		return map[string]any{"app_id": appID, "public_key_id": keyID, "deleted": true}, nil
	})
	cmd.AddCommand(create, list, addSecret, secrets, delSecret, addKey, genKey, keys, delKey, authorize, deactivate, activate, del, appSample(run))
	return cmd
}

// appSample writes an app's sample bundle, as the console's Download sample
// does: the redirect URI of the sample's port is registered (web, pkce) and a
// labelled secret (web) or key pair (jwt) is minted into the zip.
func appSample(run runner) *cobra.Command {
	var ref, lang, out, publicURL string
	var port int
	c := leaf("sample", "Write a runnable sample bundle (zip) of an app; mints a labelled secret (web) or key pair (jwt)")
	c.Flags().StringVar(&ref, "app", "", "app ID or client ID")
	c.Flags().StringVar(&lang, "lang", "", "python, javascript, go or java")
	c.Flags().StringVar(&out, "out", "", "the zip file to write (created with mode 0600: it may hold a secret)")
	c.Flags().IntVar(&port, "port", samples.DefaultPort, "port the sample serves on; http://127.0.0.1:PORT/callback is registered (web, pkce)")
	c.Flags().StringVar(&publicURL, "public-url", "", "the server's public URL, written as coze_api_base and coze_www_base (default: $COZEAUTH_PUBLIC_URL, else serve's default http://127.0.0.1:8080)")
	required(c, "app", "lang", "out")
	c.RunE = run(func(ctx context.Context, env *adminEnv) (any, error) {
		if err := samples.CheckLanguage(lang); err != nil {
			return nil, fmt.Errorf("--lang %q: want python, javascript, go or java", lang)
		}
		if port < 1 || port > 65535 {
			return nil, fmt.Errorf("--port %d: want 1..65535", port)
		}
		base, err := samplePublicURL(publicURL)
		if err != nil {
			return nil, err
		}
		app, err := env.store.GetApp(ctx, ref)
		if errors.Is(err, store.ErrNotFound) {
			app, err = env.store.GetAppByClientID(ctx, ref)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("app %q not found (give an app ID or a client ID)", ref)
		} else if err != nil {
			return nil, err
		}
		if !app.Active {
			return nil, fmt.Errorf("app %q is deactivated: a sample of it could get no token", ref)
		}
		m := &samples.Maker{Mint: env.oauth, Store: env.store, PublicURL: base, Now: time.Now}
		res, err := m.Make(ctx, samples.Request{App: app, Lang: lang, Port: port, RegisterRedirect: true})
		if err != nil {
			return nil, err
		}
		if err := writeNew(out, res.Zip); err != nil {
			undoSample(ctx, env, app.ID, res)
			return nil, err
		}
		o := map[string]string{"file": out, "client_type": res.ClientType, "client_id": res.ClientID}
		if res.RedirectURI != "" {
			o["redirect_uri"] = res.RedirectURI
		}
		if res.SecretID != "" {
			o["secret_id"] = res.SecretID
		}
		if res.PublicKeyID != "" {
			o["public_key_id"] = res.PublicKeyID
		}
		return o, nil
	})
	return c
}

// undoSample deletes what Make minted when the zip could not be written.
func undoSample(ctx context.Context, env *adminEnv, appID string, res samples.Result) {
	if res.SecretID != "" {
		_ = env.store.DeleteAppSecret(ctx, appID, res.SecretID)
	}
	if res.PublicKeyID != "" {
		_ = env.store.DeleteAppKey(ctx, appID, res.PublicKeyID)
	}
}

// samplePublicURL picks and checks the public URL a sample's config names.
func samplePublicURL(flag string) (string, error) {
	base := flag
	if base == "" {
		base = os.Getenv("COZEAUTH_PUBLIC_URL")
	}
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("--public-url %q: want an absolute http(s) URL without query or fragment", base)
	}
	return strings.TrimRight(base, "/"), nil
}

// writeNew writes data to path with mode 0600 through a temporary file in the
// same directory, so a failed write leaves no half zip.
func writeNew(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".sample-*.zip")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o600)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("--out %q: %w", path, err)
	}
	return nil
}
