package oauth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/store"
)

// ErrInvalidApp marks an app request that names something wrong; its message
// is for the caller.
var ErrInvalidApp = errors.New("invalid app request")

func invalidApp(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidApp, fmt.Sprintf(format, args...))
}

// AppSpec describes an app to create.
type AppSpec struct {
	Owner        store.Owner // a personal account or an enterprise
	CreatedBy    string      // user ID
	Type         store.ClientType
	Name         string
	Description  string
	RedirectURIs []string
	Permissions  []string
}

// checkRedirectURI applies RFC 9700 §2.1 / RFC 8252 §7: absolute, no
// fragment; https, or http on a loopback host; native apps may also use a
// private-use scheme (com.example.app:/callback).
func checkRedirectURI(t store.ClientType, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || !u.IsAbs() {
		return invalidApp("redirect URI %q is not an absolute URL", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return invalidApp("redirect URI %q must not have a fragment", raw)
	}
	// What the exact-match check compares must be what the browser visits:
	// a user name ("https://good\@evil" reads differently in browsers),
	// backslashes and spaces are parsed differently by different parsers.
	if u.User != nil || strings.Contains(raw, "\\") {
		return invalidApp("redirect URI %q must not contain a user name, password or backslash", raw)
	}
	if strings.ContainsFunc(raw, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return invalidApp("redirect URI %q must not contain spaces or control characters", raw)
	}
	if strings.Contains(raw, "*") {
		return invalidApp("redirect URI %q: wildcards are not allowed; URIs match exactly", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return invalidApp("redirect URI %q has no host", raw)
		}
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); !(host == "localhost" || (ip != nil && ip.IsLoopback())) {
			return invalidApp("redirect URI %q: plain http is allowed only on localhost or a loopback address; use https", raw)
		}
	default:
		if t != store.ClientSinglePageOrNative || !strings.Contains(u.Scheme, ".") {
			return invalidApp("redirect URI %q: use https (native apps may use a reverse-domain scheme such as com.example.app:/callback)", raw)
		}
	}
	return nil
}

// UsesRedirect reports whether apps of type t are redirected back with a
// code (web and PKCE), so need redirect URIs; the others must have none.
func UsesRedirect(t store.ClientType) bool {
	return t == store.ClientWebBackend || t == store.ClientSinglePageOrNative
}

// CheckRedirectURIs validates an app's redirect URIs as CreateApp does and
// returns them de-duplicated, in order. An error wraps ErrInvalidApp; a
// *RedirectURIError names the URI at fault.
func CheckRedirectURIs(t store.ClientType, raw []string) ([]string, error) {
	var uris []string
	for _, u := range raw {
		if err := checkRedirectURI(t, u); err != nil {
			return nil, &RedirectURIError{URI: u, err: err}
		}
		if !slices.Contains(uris, u) {
			uris = append(uris, u)
		}
	}
	if UsesRedirect(t) && len(uris) == 0 {
		return nil, invalidApp("a %s app needs at least one redirect URI", t)
	}
	if !UsesRedirect(t) && len(uris) > 0 {
		return nil, invalidApp("a %s app does not use redirect URIs", t)
	}
	return uris, nil
}

// RedirectURIError is a refused redirect URI; it wraps ErrInvalidApp.
type RedirectURIError struct {
	URI string
	err error
}

func (e *RedirectURIError) Error() string { return e.err.Error() }
func (e *RedirectURIError) Unwrap() error { return e.err }

// CreateApp creates an app; a WebBackend app gets its first client secret,
// returned once.
func (s *Service) CreateApp(ctx context.Context, spec AppSpec) (store.App, string, error) {
	name := strings.TrimSpace(spec.Name)
	switch {
	case name == "":
		return store.App{}, "", invalidApp("an app name is required")
	case utf8.RuneCountInString(name) > 100:
		return store.App{}, "", invalidApp("app name is longer than 100 characters")
	case utf8.RuneCountInString(spec.Description) > 1000:
		return store.App{}, "", invalidApp("description is longer than 1000 characters")
	case !spec.Type.Valid():
		return store.App{}, "", invalidApp("client type %q: want WebBackend, SinglePageOrNative, Terminal or Service", spec.Type)
	case !spec.Owner.Valid():
		return store.App{}, "", invalidApp("an app needs an owner account")
	}
	perms, err := s.Catalog.Validate(spec.Permissions)
	if err != nil {
		return store.App{}, "", invalidApp("%v", err)
	}
	uris, err := CheckRedirectURIs(spec.Type, spec.RedirectURIs)
	if err != nil {
		return store.App{}, "", err
	}
	now := s.Now().Unix()
	app := store.App{ID: store.NewID(), ClientID: store.NewID(), Name: name, Description: spec.Description,
		Owner: spec.Owner, CreatedBy: spec.CreatedBy, ClientType: spec.Type, RedirectURIs: uris,
		Permissions: perms, Active: true, CreatedAt: now, UpdatedAt: now}
	if err := s.Store.CreateApp(store.WithAudit(ctx, AppAudit(ctx, now, app, "app.create", map[string]any{"name": app.Name,
		"client_type": app.ClientType, "permissions": app.Permissions, "redirect_uris": app.RedirectURIs})), app); err != nil {
		return store.App{}, "", err
	}
	if !spec.Type.Confidential() {
		return app, "", nil
	}
	_, secret, err := s.AddSecret(ctx, app.ID)
	if err != nil {
		_ = s.Store.DeleteApp(ctx, app.ID) // nothing half-made
		return store.App{}, "", err
	}
	return app, secret, nil
}

// GetApp returns an app or a not-found error naming it.
func (s *Service) GetApp(ctx context.Context, id string) (store.App, error) {
	a, err := s.Store.GetApp(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("%w: app %q not found", store.ErrNotFound, id)
	}
	return a, err
}

// AddSecret adds a client secret to a WebBackend app; the secret is returned
// once and only its hash is stored.
func (s *Service) AddSecret(ctx context.Context, appID string) (store.AppSecret, string, error) {
	return s.AddLabelledSecret(ctx, appID, "")
}

// MaxLabel is the longest label of a client secret or public key, in
// characters.
const MaxLabel = 100

func checkLabel(label string) error {
	if utf8.RuneCountInString(label) > MaxLabel {
		return invalidApp("label is longer than %d characters", MaxLabel)
	}
	return nil
}

// AddLabelledSecret is AddSecret with a label saying what the secret is for
// (a sample download labels its secret "sample YYYY-MM-DD").
func (s *Service) AddLabelledSecret(ctx context.Context, appID, label string) (store.AppSecret, string, error) {
	if err := checkLabel(label); err != nil {
		return store.AppSecret{}, "", err
	}
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return store.AppSecret{}, "", err
	}
	if !app.ClientType.Confidential() {
		return store.AppSecret{}, "", invalidApp("a %s app has no client secrets", app.ClientType)
	}
	secret := credential.NewToken(prefixSecret)
	sec := store.AppSecret{ID: store.NewID(), AppID: appID, Hash: credential.Hash(secret),
		Hint: secret[len(secret)-4:], Label: label, CreatedAt: s.Now().Unix()}
	ctx = store.WithAudit(ctx, AppAudit(ctx, sec.CreatedAt, app, "app.secret.create", map[string]any{"secret_id": sec.ID, "label": label}))
	if err := s.Store.AddAppSecret(ctx, sec); err != nil {
		return store.AppSecret{}, "", err
	}
	return sec, secret, nil
}

// checkSecret authenticates a confidential client's secret. Known secrets
// are cached until the revision changes (deleting a secret advances it).
func (s *Service) checkSecret(ctx context.Context, app store.App, secret string) error {
	h := credential.Hash(secret)
	sec, ok, err := lookup(s.secrets, [2]string{app.ID, h}, func() (store.AppSecret, error) {
		return s.Store.GetAppSecretByHash(ctx, app.ID, h)
	})
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidClient("client authentication failed: wrong client secret")
	}
	if !credential.HashesEqual(sec.Hash, h) {
		return ErrInvalidClient("client authentication failed: wrong client secret")
	}
	return nil
}

// MinRSABits is the smallest RSA key accepted for JWT signing.
const MinRSABits = 2048

// parsePublicKey accepts a PEM "PUBLIC KEY" (PKIX), "RSA PUBLIC KEY"
// (PKCS#1) or certificate holding an RSA key of at least MinRSABits.
func parsePublicKey(pemText string) (*rsa.PublicKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if block == nil {
		return nil, invalidApp("the public key is not PEM")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	default:
		return nil, invalidApp("PEM block %q is not a public key (a private key must never be uploaded)", block.Type)
	}
	if err != nil {
		return nil, invalidApp("cannot parse the public key: %v", err)
	}
	rk, ok := pub.(*rsa.PublicKey)
	if !ok {
		return nil, invalidApp("the public key is not RSA (JWT apps sign with RS256)")
	}
	if rk.N.BitLen() < MinRSABits {
		return nil, invalidApp("the RSA key has %d bits; at least %d are required", rk.N.BitLen(), MinRSABits)
	}
	return rk, nil
}

// fingerprint identifies a public key: hex SHA-256 of its PKIX encoding,
// shortened; it is the key ID (JWT kid).
func fingerprint(k *rsa.PublicKey) (string, string, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:20]), string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// AddKey registers an uploaded public key for a Service app.
func (s *Service) AddKey(ctx context.Context, appID, pemText string) (store.AppKey, error) {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return store.AppKey{}, err
	}
	if app.ClientType != store.ClientService {
		return store.AppKey{}, invalidApp("only Service (JWT) apps have public keys")
	}
	pub, err := parsePublicKey(pemText)
	if err != nil {
		return store.AppKey{}, err
	}
	return s.storeKey(ctx, app, pub, "", false)
}

func (s *Service) storeKey(ctx context.Context, app store.App, pub *rsa.PublicKey, label string, generated bool) (store.AppKey, error) {
	kid, pemOut, err := fingerprint(pub)
	if err != nil {
		return store.AppKey{}, err
	}
	k := store.AppKey{ID: kid, AppID: app.ID, PublicKeyPEM: pemOut, Label: label, CreatedAt: s.Now().Unix()}
	ctx = store.WithAudit(ctx, AppAudit(ctx, k.CreatedAt, app, "app.key.create", map[string]any{"key_id": kid, "generated": generated, "label": label}))
	if err := s.Store.AddAppKey(ctx, k); err != nil {
		if errors.Is(err, store.ErrAlreadyExists) {
			return store.AppKey{}, invalidApp("this public key is already registered (id %s)", kid)
		}
		return store.AppKey{}, err
	}
	return k, nil
}

// GenerateKey makes an RSA key pair for a Service app, stores the public key
// and returns the private key once, as PKCS#8 PEM (what coze-go requires,
// WIRE.md §9).
func (s *Service) GenerateKey(ctx context.Context, appID string) (store.AppKey, string, error) {
	return s.GenerateLabelledKey(ctx, appID, "")
}

// GenerateLabelledKey is GenerateKey with a label on the public key (a
// sample download labels its key "sample YYYY-MM-DD").
func (s *Service) GenerateLabelledKey(ctx context.Context, appID, label string) (store.AppKey, string, error) {
	if err := checkLabel(label); err != nil {
		return store.AppKey{}, "", err
	}
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return store.AppKey{}, "", err
	}
	if app.ClientType != store.ClientService {
		return store.AppKey{}, "", invalidApp("only Service (JWT) apps have public keys")
	}
	priv, err := rsa.GenerateKey(rand.Reader, MinRSABits)
	if err != nil {
		return store.AppKey{}, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.AppKey{}, "", err
	}
	k, err := s.storeKey(ctx, app, &priv.PublicKey, label, true)
	if err != nil {
		return store.AppKey{}, "", err
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

// AddRedirectURI registers one more redirect URI of a web or PKCE app, after
// checking it as CreateApp does; a URI already registered is left alone. It
// reports whether it added the URI. The app's revision advances, so every
// replica sees the new URI.
func (s *Service) AddRedirectURI(ctx context.Context, appID, uri string) (bool, error) {
	added := false
	_, err := s.Store.UpdateApp(ctx, appID, func(a store.App) (store.App, error) {
		added = false
		if !UsesRedirect(a.ClientType) {
			return a, invalidApp("a %s app does not use redirect URIs", a.ClientType)
		}
		if slices.Contains(a.RedirectURIs, uri) {
			return a, nil
		}
		uris, err := CheckRedirectURIs(a.ClientType, append(slices.Clone(a.RedirectURIs), uri))
		if err != nil {
			return a, err
		}
		a.RedirectURIs, a.UpdatedAt, added = uris, s.Now().Unix(), true
		return a, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, fmt.Errorf("%w: app %q not found", store.ErrNotFound, appID)
	}
	return added, err
}

// AuthorizeApp records that user's personal account authorizes a Service app
// to act in it (AppAuth), on all workspaces or the listed ones.
func (s *Service) AuthorizeApp(ctx context.Context, appID, userID string, all bool, workspaces []string) (store.Grant, error) {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return store.Grant{}, err
	}
	if app.ClientType != store.ClientService {
		return store.Grant{}, invalidApp("only Service (JWT) apps are authorized this way; users consent to the others")
	}
	u, err := s.Store.GetUser(ctx, userID)
	if err != nil {
		return store.Grant{}, err
	}
	if all && len(workspaces) > 0 {
		return store.Grant{}, invalidApp("choose either all workspaces or a list of workspaces")
	}
	if !all && len(workspaces) == 0 {
		all = true
	}
	for _, id := range workspaces {
		ws, err := s.Store.GetWorkspace(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return store.Grant{}, invalidApp("workspace %q not found", id)
		} else if err != nil {
			return store.Grant{}, err
		}
		if ws.Owner != u.Account() {
			return store.Grant{}, invalidApp("workspace %q is not in the user's personal account", id)
		}
	}
	now := s.Now().Unix()
	g := store.Grant{ID: store.NewID(), AppID: app.ID, Kind: store.GrantAppAuth, UserID: u.ID,
		Owner: u.Account(), Permissions: slices.Clone(app.Permissions), AllWorkspaces: all, WorkspaceIDs: workspaces,
		CreatedBy: u.ID, CreatedAt: now, UpdatedAt: now}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, now, "app.authorize", "app", app.ID, "", map[string]any{
		"user_id": u.ID, "all_workspaces": all, "workspace_ids": workspaces, "permissions": g.Permissions}))
	return s.Store.PutGrant(ctx, g)
}

// Deactivate stops the app: its tokens stop working at once (the revision
// advances, every process drops its caches) and no new ones are issued.
func (s *Service) Deactivate(ctx context.Context, appID string) error {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return err
	}
	ctx = store.WithAudit(ctx, AppAudit(ctx, s.Now().Unix(), app, "app.deactivate", nil))
	_, err = s.Store.UpdateApp(ctx, appID, func(a store.App) (store.App, error) {
		a.Active = false
		a.UpdatedAt = s.Now().Unix()
		return a, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: app %q not found", store.ErrNotFound, appID)
	}
	return err
}

// Activate reactivates a deactivated app. The tokens it held before are
// revoked first, so reactivation revives none of them: its users' consents
// and authorizations stand, and clients get new tokens.
func (s *Service) Activate(ctx context.Context, appID string) (store.App, error) {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return store.App{}, err
	}
	if app.Active {
		return app, nil
	}
	now := s.Now().Unix()
	if err := s.Store.RevokeTokensByApp(ctx, appID, now); err != nil {
		return store.App{}, err
	}
	ctx = store.WithAudit(ctx, AppAudit(ctx, now, app, "app.activate", nil))
	app, err = s.Store.UpdateApp(ctx, appID, func(a store.App) (store.App, error) {
		a.Active = true
		a.UpdatedAt = now
		return a, nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.App{}, fmt.Errorf("%w: app %q not found", store.ErrNotFound, appID)
	}
	return app, err
}

// InstallApp installs a Service app in an enterprise (AppAuth with the
// enterprise as the account, all its workspaces), on behalf of by, who must be
// a SuperAdmin or Admin of the enterprise. The app then gets tokens for the
// enterprise on the enterprise_id/{id}/token path.
func (s *Service) InstallApp(ctx context.Context, appID, enterpriseID, by string) (store.Grant, error) {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return store.Grant{}, err
	}
	if app.ClientType != store.ClientService {
		return store.Grant{}, invalidApp("only Service (JWT) apps are installed in enterprises; users consent to the others")
	}
	if _, err := s.Store.GetEnterprise(ctx, enterpriseID); errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, fmt.Errorf("%w: enterprise %q not found", store.ErrNotFound, enterpriseID)
	} else if err != nil {
		return store.Grant{}, err
	}
	m, err := s.Store.GetEnterpriseMember(ctx, enterpriseID, by)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !m.Role.IsAdmin()) {
		return store.Grant{}, invalidApp("only a SuperAdmin or Admin of enterprise %q can install apps in it", enterpriseID)
	} else if err != nil {
		return store.Grant{}, err
	}
	now := s.Now().Unix()
	return s.Store.PutGrant(ctx, store.Grant{ID: store.NewID(), AppID: app.ID, Kind: store.GrantAppAuth,
		Owner: store.Owner{Type: store.OwnerEnterprise, ID: enterpriseID}, Permissions: slices.Clone(app.Permissions),
		AllWorkspaces: true, CreatedBy: by, CreatedAt: now, UpdatedAt: now})
}

// UninstallApp removes an app's installation from an enterprise; its tokens
// stop at once.
func (s *Service) UninstallApp(ctx context.Context, appID, enterpriseID string) error {
	gs, err := s.Store.ListGrants(ctx, store.GrantFilter{AppID: appID, Kind: store.GrantAppAuth,
		Owner: store.Owner{Type: store.OwnerEnterprise, ID: enterpriseID}})
	if err != nil {
		return err
	}
	if len(gs) == 0 {
		return fmt.Errorf("%w: app %q is not installed in enterprise %q", store.ErrNotFound, appID, enterpriseID)
	}
	return s.Store.DeleteGrant(ctx, gs[0].ID, s.Now().Unix())
}

// AppAudit builds the audit event of a change to app (action "app.create",
// "app.secret.delete", …), in the app's enterprise if it has one.
func AppAudit(ctx context.Context, at int64, app store.App, action string, detail map[string]any) store.AuditEvent {
	ent := ""
	if app.Owner.Type == store.OwnerEnterprise {
		ent = app.Owner.ID
	}
	return store.NewAuditEvent(ctx, at, action, "app", app.ID, ent, detail)
}

// DeleteApp deletes an app with its secrets, keys, authorizations and tokens.
func (s *Service) DeleteApp(ctx context.Context, appID string) error {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return err
	}
	ctx = store.WithAudit(ctx, AppAudit(ctx, s.Now().Unix(), app, "app.delete", map[string]any{"name": app.Name}))
	return s.Store.DeleteApp(ctx, appID)
}

// DeleteSecret deletes a client secret: clients using it can no longer
// authenticate.
func (s *Service) DeleteSecret(ctx context.Context, appID, secretID string) error {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return err
	}
	ctx = store.WithAudit(ctx, AppAudit(ctx, s.Now().Unix(), app, "app.secret.delete", map[string]any{"secret_id": secretID}))
	if err := s.Store.DeleteAppSecret(ctx, appID, secretID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: app %q has no secret %q", store.ErrNotFound, appID, secretID)
	} else if err != nil {
		return err
	}
	return nil
}

// DeleteKey deletes a public key: JWTs signed with it are refused.
func (s *Service) DeleteKey(ctx context.Context, appID, keyID string) error {
	app, err := s.GetApp(ctx, appID)
	if err != nil {
		return err
	}
	ctx = store.WithAudit(ctx, AppAudit(ctx, s.Now().Unix(), app, "app.key.delete", map[string]any{"key_id": keyID}))
	if err := s.Store.DeleteAppKey(ctx, appID, keyID); errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: app %q has no public key %q", store.ErrNotFound, appID, keyID)
	} else if err != nil {
		return err
	}
	return nil
}
