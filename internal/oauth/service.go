package oauth

import (
	"crypto/rsa"
	"log/slog"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Store is what the OAuth service needs from storage.
type Store interface {
	store.Users
	store.Enterprises
	store.Workspaces
	store.OAuth
}

// Lifetimes are the configurable lifetimes of everything the service issues.
type Lifetimes struct {
	AccessToken  time.Duration // default 15 min
	RefreshToken time.Duration // default 30 days
	AuthCode     time.Duration // default 5 min
	DeviceCode   time.Duration // default 10 min
	// DevicePollInterval is the interval announced to device clients and the
	// minimum gap between polls before slow_down (RFC 8628 §3.5).
	DevicePollInterval time.Duration // default 5 s
	// RefreshRetry is how long a rotated refresh token may be presented
	// again to get the same answer (a client that lost it); 0 disables.
	RefreshRetry time.Duration // default 10 s
}

// DefaultLifetimes returns the defaults of the OAuth issue.
func DefaultLifetimes() Lifetimes {
	return Lifetimes{
		AccessToken:        15 * time.Minute,
		RefreshToken:       30 * 24 * time.Hour,
		AuthCode:           5 * time.Minute,
		DeviceCode:         10 * time.Minute,
		DevicePollInterval: 5 * time.Second,
		RefreshRetry:       10 * time.Second,
	}
}

// Service holds the OAuth state and dependencies; its handlers are methods.
type Service struct {
	Store     Store
	Catalog   *permission.Catalog
	Lifetimes Lifetimes
	// PublicURL is the server's public base URL (no trailing slash); the
	// device verification URI is built from it.
	PublicURL string
	// Audiences are the accepted JWT aud values besides the public host
	// (with and without port), e.g. api.coze.cn in dev mode.
	Audiences []string
	Now       func() time.Time
	Log       *slog.Logger
	// Limits are the request rate limits of /token and /device/code (issue
	// 11.8); the zero value limits nothing.
	Limits Limits
	// OnToken, when set, hears each /token request once it is answered: the
	// grant (grantLabel) and "issued" or the OAuth error code sent.
	OnToken func(grant, outcome string)

	gen     *cache.Generation
	apps    *cache.Cache[string, store.App]
	grants  *cache.Cache[string, store.Grant]
	appAuth *cache.Cache[appAuthKey, store.Grant]
	keys    *cache.Cache[[2]string, *rsa.PublicKey]
	secrets *cache.Cache[[2]string, store.AppSecret]
	tokens  *cache.Cache[string, *store.OAuthToken]
}

// appAuthKey finds the AppAuth grant of an app in an account.
type appAuthKey struct {
	appID string
	owner store.Owner
}

// Init prepares the service's caches, which share gen with the rest of the
// server so a revision change (revocation, deactivation) drops them.
func (s *Service) Init(gen *cache.Generation) *Service {
	s.gen = gen
	s.apps = cache.New[string, store.App](gen, 50_000)
	s.grants = cache.New[string, store.Grant](gen, 100_000)
	s.appAuth = cache.New[appAuthKey, store.Grant](gen, 100_000)
	s.keys = cache.New[[2]string, *rsa.PublicKey](gen, 10_000)
	s.secrets = cache.New[[2]string, store.AppSecret](gen, 10_000)
	s.tokens = cache.New[string, *store.OAuthToken](gen, 200_000)
	return s
}
