package samples

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

// ErrDeactivated refuses a sample of a deactivated app: it could get no
// token.
var ErrDeactivated = errors.New("the app is deactivated, so a sample of it could get no token; activate or recreate the app first")

// ErrBadPort refuses a port outside 1..65535.
var ErrBadPort = errors.New("invalid port")

// Minter creates what a bundle's config needs; *oauth.Service is one.
type Minter interface {
	// AddLabelledSecret returns a new client secret, once; only its hash is kept.
	AddLabelledSecret(ctx context.Context, appID, label string) (store.AppSecret, string, error)
	// GenerateLabelledKey registers a new public key and returns the private
	// key, once, as PKCS#8 PEM.
	GenerateLabelledKey(ctx context.Context, appID, label string) (store.AppKey, string, error)
	// AddRedirectURI registers a redirect URI unless it is there already.
	AddRedirectURI(ctx context.Context, appID, uri string) (bool, error)
}

// Deleter takes a minted secret or key back; the store is one.
type Deleter interface {
	DeleteAppSecret(ctx context.Context, appID, id string) error
	DeleteAppKey(ctx context.Context, appID, kid string) error
}

// Maker makes sample bundles of apps.
type Maker struct {
	Mint  Minter
	Store Deleter
	// PublicURL is the server's public base URL, written as coze_api_base and
	// coze_www_base.
	PublicURL string
	Now       func() time.Time
}

// Request asks for one bundle.
type Request struct {
	App  store.App
	Lang string
	// Port of the sample (0: 8080); its /callback is the redirect URI.
	Port int
	// RegisterRedirect adds the redirect URI to a web or PKCE app when it is
	// missing.
	RegisterRedirect bool
}

// Result is a made bundle and what was minted for it.
type Result struct {
	Zip         []byte
	Filename    string
	ClientType  string // web, pkce, device or jwt
	ClientID    string
	RedirectURI string // web and pkce
	// RedirectRegistered: the app has the redirect URI now (it had it, or it
	// was added).
	RedirectRegistered bool
	SecretID           string // web
	PublicKeyID        string // jwt
}

// Label is the label of a secret or key minted on day t.
func Label(t time.Time) string { return "sample " + t.UTC().Format("2006-01-02") }

// CheckPort refuses a port outside 1..65535 (0 means the default).
func CheckPort(port int) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("%w %d: want 1..65535", ErrBadPort, port)
	}
	return nil
}

// Preview is the config a bundle of app would get, with the secret or key
// left empty; it checks nothing is refused but mints nothing.
func (m *Maker) Preview(app store.App) (Config, error) {
	typ, err := TypeOf(app.ClientType)
	if err != nil {
		return Config{}, err
	}
	return Config{ClientType: typ, ClientID: app.ClientID, CozeAPIBase: m.PublicURL, CozeWWWBase: m.PublicURL}, nil
}

// Make checks the request, registers the redirect URI when asked, mints the
// secret or key pair and builds the zip. Everything is checked before
// anything is minted; if the zip cannot be built the minted secret or key is
// deleted again.
func (m *Maker) Make(ctx context.Context, req Request) (Result, error) {
	if err := CheckLanguage(req.Lang); err != nil {
		return Result{}, err
	}
	if err := CheckPort(req.Port); err != nil {
		return Result{}, err
	}
	if !req.App.Active {
		return Result{}, ErrDeactivated
	}
	cfg, err := m.Preview(req.App)
	if err != nil {
		return Result{}, err
	}
	if _, err := programFiles(req.Lang, cfg.ClientType); err != nil {
		return Result{}, err
	}
	now := m.Now()
	res := Result{ClientType: cfg.ClientType, ClientID: cfg.ClientID,
		Filename: Filename(req.Lang, cfg.ClientType, cfg.ClientID)}
	if cfg.ClientType == "web" || cfg.ClientType == "pkce" {
		res.RedirectURI = RedirectURI(req.Port)
		res.RedirectRegistered = slices.Contains(req.App.RedirectURIs, res.RedirectURI)
		if req.RegisterRedirect && !res.RedirectRegistered {
			if _, err := m.Mint.AddRedirectURI(ctx, req.App.ID, res.RedirectURI); err != nil {
				return Result{}, err
			}
			res.RedirectRegistered = true
		}
	}
	var undo func()
	switch cfg.ClientType {
	case "web":
		sec, secret, err := m.Mint.AddLabelledSecret(ctx, req.App.ID, Label(now))
		if err != nil {
			return Result{}, err
		}
		cfg.ClientSecret, res.SecretID = secret, sec.ID
		undo = func() { _ = m.Store.DeleteAppSecret(context.WithoutCancel(ctx), req.App.ID, sec.ID) }
	case "jwt":
		k, priv, err := m.Mint.GenerateLabelledKey(ctx, req.App.ID, Label(now))
		if err != nil {
			return Result{}, err
		}
		cfg.PrivateKey, cfg.PublicKeyID, res.PublicKeyID = priv, k.ID, k.ID
		undo = func() { _ = m.Store.DeleteAppKey(context.WithoutCancel(ctx), req.App.ID, k.ID) }
	}
	var buf bytes.Buffer
	if err := Build(&buf, Bundle{Lang: req.Lang, Config: cfg, Port: req.Port, ModTime: now}); err != nil {
		if undo != nil {
			undo()
		}
		return Result{}, err
	}
	res.Zip = buf.Bytes()
	return res, nil
}
