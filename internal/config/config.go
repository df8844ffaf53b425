// Package config holds the server's settings, decoded once from flags and
// COZEAUTH_* environment variables and validated before anything starts.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cozeauth/cozeauth/internal/clientip"
	"github.com/cozeauth/cozeauth/internal/cors"
	"github.com/cozeauth/cozeauth/internal/logging"
	"github.com/cozeauth/cozeauth/internal/ratelimit"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// Config is the validated configuration of `cozeauth serve`.
type Config struct {
	Addr      string
	DB        string
	PublicURL string
	Dev       bool
	// DevAllowRemote lets Dev seed on a non-loopback listen address.
	DevAllowRemote bool
	LogLevel       string
	LogFormat      string
	AccessLog      bool
	// RevisionPoll is how often each process checks the store's revision to drop
	// its caches; it bounds how long a revocation takes to reach every process.
	RevisionPoll time.Duration
	// LastUsedFlush is how often recorded last-use times are written.
	LastUsedFlush   time.Duration
	ShutdownTimeout time.Duration
	// DBTimeout bounds each database call a request makes (on top of the
	// request's own context): a request that cannot get a connection or an
	// answer in time gets 503, never hangs.
	DBTimeout time.Duration
	// DBMaxConns is the size of the connection pool (0: the backend's
	// default: 8 on SQLite; on PostgreSQL 4 per CPU, at least 8).
	DBMaxConns int
	// GCHeapFloorMiB is the heap size in MiB below which the garbage
	// collector does not run (internal/gcfloor); 0 leaves GOGC alone.
	GCHeapFloorMiB int

	// OAuth lifetimes and JWT audiences.
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration
	AuthCodeTTL        time.Duration
	DeviceCodeTTL      time.Duration
	DevicePollInterval time.Duration
	// RefreshRetryWindow: a rotated refresh token presented again this soon
	// gets the same answer (a client that lost it); 0 disables.
	RefreshRetryWindow time.Duration
	// JWTAudiences are accepted JWT aud values besides the public host; dev
	// mode adds api.coze.cn and api.coze.com (WIRE.md policy choices).
	JWTAudiences []string
	// TrustedProxies are the CIDRs of reverse proxies whose X-Forwarded-For
	// names the client (for rate limits); TrustedPrefixes is them parsed.
	TrustedProxies  []string
	TrustedPrefixes []netip.Prefix
	// ClockOffset shifts the server's clock (tests only: a hidden flag that
	// lets a test see expiry without waiting for the wall clock).
	ClockOffset time.Duration
	// MetricsAddr serves /metrics on a listener of its own ("" = on Addr);
	// MetricsToken, when set, is required as a Bearer token on /metrics.
	MetricsAddr  string
	MetricsToken string
	// CORSOrigins are origins allowed to call the OAuth endpoints and the
	// OpenAPI from a browser, besides PKCE apps' redirect URI origins
	// (normalized by Validate).
	CORSOrigins []string

	// The gateway (issue 10). Upstream is "" (catalog routes answer an error
	// after authorization), "sandbox" (the in-process sandbox; the default
	// with --dev) or the base URL of a Coze-compatible OpenAPI.
	Upstream              string
	UpstreamToken         string
	UpstreamTokenFile     string
	UpstreamAllowUnlisted bool
	UpstreamMaxBody       int64
	UpstreamTimeout       time.Duration
	// UpstreamResolve are TYPE=PATH#FIELD lookups asking the upstream which
	// workspace a resource cozeauth does not know lives in.
	UpstreamResolve    []string
	UpstreamResolveTTL time.Duration
	// SecretKeyFile holds the key that seals per-user upstream tokens.
	SecretKeyFile string
	// Rate limits (issue 11.8), per client IP and per client_id, in memory
	// per replica: TokenRate/TokenBurst on /token, DeviceCodeRate/
	// DeviceCodeBurst on /device/code ("N/s", "N/m", "0" off); TokenLimit and
	// DeviceCodeLimit are them parsed. DeviceGuessLimit wrong user codes per
	// DeviceGuessWindow stop a session on the device page (0 off).
	// TokenClientRate and DeviceCodeClientRate are the per-client_id
	// rates (burst N): ten times the per-IP ones by default, so that one
	// address cannot use up an app's budget (client_id is not a secret).
	TokenRate, DeviceCodeRate               string
	TokenClientRate, DeviceCodeClientRate   string
	TokenClientLimit, DeviceCodeClientLimit ratelimit.Limit
	TokenBurst, DeviceCodeBurst             int
	TokenLimit, DeviceCodeLimit             ratelimit.Limit
	DeviceGuessLimit                        int
	DeviceGuessWindow                       time.Duration
}

// UpstreamSandbox is the Upstream value naming the in-process sandbox.
const UpstreamSandbox = "sandbox"

// Default returns the defaults of every setting.
func Default() Config {
	return Config{
		Addr:            "127.0.0.1:8080",
		DB:              "cozeauth.db",
		LogLevel:        "info",
		LogFormat:       "json",
		AccessLog:       true,
		RevisionPoll:    250 * time.Millisecond,
		LastUsedFlush:   10 * time.Second,
		ShutdownTimeout: 15 * time.Second,
		DBTimeout:       5 * time.Second,
		GCHeapFloorMiB:  32,

		AccessTokenTTL:     15 * time.Minute,
		RefreshTokenTTL:    30 * 24 * time.Hour,
		AuthCodeTTL:        5 * time.Minute,
		DeviceCodeTTL:      10 * time.Minute,
		DevicePollInterval: 5 * time.Second,
		RefreshRetryWindow: 10 * time.Second,

		UpstreamMaxBody:    512 << 20,
		UpstreamTimeout:    2 * time.Minute,
		UpstreamResolveTTL: 10 * time.Minute,

		TokenRate: "50/s", TokenBurst: 100, TokenClientRate: "500/s",
		DeviceCodeRate: "10/m", DeviceCodeBurst: 10, DeviceCodeClientRate: "100/m",
		DeviceGuessLimit: 5, DeviceGuessWindow: 10 * time.Minute,
	}
}

// Validate checks every setting and fills derived ones (PublicURL from Addr).
func (c *Config) Validate() error {
	var errs []error
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil || port == "" {
		errs = append(errs, fmt.Errorf("--addr %q: want HOST:PORT", c.Addr))
	}
	if _, _, err := sqlstore.ParseDSN(c.DB); err != nil {
		errs = append(errs, fmt.Errorf("--db: %w", err))
	}
	if c.PublicURL == "" && err == nil {
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.PublicURL = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("--public-url %q: want an absolute http(s) URL without query or fragment", c.PublicURL))
	} else {
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("--log-format %q: want json or text", c.LogFormat))
	}
	if c.RevisionPoll <= 0 || c.RevisionPoll > time.Second {
		errs = append(errs, fmt.Errorf("--revision-poll %s: want more than 0 and at most 1s (revocations must reach every process within a second)", c.RevisionPoll))
	}
	if c.LastUsedFlush <= 0 {
		errs = append(errs, fmt.Errorf("--last-used-flush %s: must be positive", c.LastUsedFlush))
	}
	for _, d := range []struct {
		flag     string
		v        time.Duration
		min, max time.Duration
	}{
		{"--access-token-ttl", c.AccessTokenTTL, time.Second, 24 * time.Hour},
		{"--refresh-token-ttl", c.RefreshTokenTTL, time.Minute, 365 * 24 * time.Hour},
		{"--auth-code-ttl", c.AuthCodeTTL, time.Second, 10 * time.Minute},
		{"--device-code-ttl", c.DeviceCodeTTL, time.Second, 24 * time.Hour},
		{"--device-poll-interval", c.DevicePollInterval, time.Second, time.Minute},
	} {
		if d.v < d.min || d.v > d.max {
			errs = append(errs, fmt.Errorf("%s %s: want from %s to %s", d.flag, d.v, d.min, d.max))
		}
	}
	if c.Dev {
		c.JWTAudiences = append(c.JWTAudiences, "api.coze.cn", "api.coze.com")
	}
	if c.TokenLimit, err = ratelimit.ParseRate(c.TokenRate, c.TokenBurst); err != nil {
		errs = append(errs, fmt.Errorf("--token-rate-limit: %w", err))
	}
	if c.DeviceCodeLimit, err = ratelimit.ParseRate(c.DeviceCodeRate, c.DeviceCodeBurst); err != nil {
		errs = append(errs, fmt.Errorf("--device-code-rate-limit: %w", err))
	}
	if c.TokenClientLimit, err = ratelimit.ParseRate(c.TokenClientRate, 0); err != nil {
		errs = append(errs, fmt.Errorf("--token-client-rate-limit: %w", err))
	}
	if c.DeviceCodeClientLimit, err = ratelimit.ParseRate(c.DeviceCodeClientRate, 0); err != nil {
		errs = append(errs, fmt.Errorf("--device-code-client-rate-limit: %w", err))
	}
	if c.DeviceGuessLimit < 0 || (c.DeviceGuessLimit > 0 && c.DeviceGuessWindow <= 0) {
		errs = append(errs, fmt.Errorf("--device-guess-limit %d per --device-guess-window %s: want a limit of 0 (off) or more, and a positive window", c.DeviceGuessLimit, c.DeviceGuessWindow))
	}
	if p, err := clientip.ParsePrefixes(c.TrustedProxies); err != nil {
		errs = append(errs, fmt.Errorf("--trusted-proxy: %w", err))
	} else {
		c.TrustedPrefixes = p
	}
	for i, o := range c.CORSOrigins {
		n, err := cors.ParseOrigin(strings.TrimSpace(o))
		if err != nil {
			errs = append(errs, fmt.Errorf("--cors-origin: %w", err))
			continue
		}
		c.CORSOrigins[i] = n
	}
	if c.MetricsAddr != "" {
		if _, p, err := net.SplitHostPort(c.MetricsAddr); err != nil || p == "" {
			errs = append(errs, fmt.Errorf("--metrics-addr %q: want HOST:PORT", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr {
			errs = append(errs, fmt.Errorf("--metrics-addr %q: the same as --addr", c.MetricsAddr))
		}
	}
	if c.RefreshRetryWindow < 0 || c.RefreshRetryWindow > time.Minute {
		errs = append(errs, fmt.Errorf("--refresh-retry-window %s: want from 0 (off) to 1m", c.RefreshRetryWindow))
	}
	if c.DBTimeout <= 0 || c.DBTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("--db-timeout %s: want more than 0 and at most 1m", c.DBTimeout))
	}
	if c.DBMaxConns < 0 {
		errs = append(errs, fmt.Errorf("--db-max-conns %d: want 0 (the backend's default) or more", c.DBMaxConns))
	}
	if c.GCHeapFloorMiB < 0 || c.GCHeapFloorMiB > 1<<20 {
		errs = append(errs, fmt.Errorf("--gc-heap-floor %d: want from 0 (off) to 1048576 MiB", c.GCHeapFloorMiB))
	}
	errs = append(errs, c.validateUpstream()...)
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--shutdown-timeout %s: must be positive", c.ShutdownTimeout))
	}
	return errors.Join(errs...)
}

// validateUpstream checks the gateway settings and reads the upstream token
// file into UpstreamToken.
func (c *Config) validateUpstream() []error {
	var errs []error
	switch {
	case c.Upstream == "" && c.Dev:
		c.Upstream = UpstreamSandbox
	case c.Upstream == "", c.Upstream == UpstreamSandbox:
	default:
		u, err := url.Parse(c.Upstream)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("--upstream %q: want %q or an absolute http(s) URL without query or fragment", c.Upstream, UpstreamSandbox))
		}
	}
	if c.UpstreamTokenFile != "" {
		if c.UpstreamToken != "" {
			errs = append(errs, errors.New("--upstream-token and --upstream-token-file: give one"))
		} else if b, err := os.ReadFile(c.UpstreamTokenFile); err != nil {
			errs = append(errs, fmt.Errorf("--upstream-token-file: %w", err))
		} else {
			c.UpstreamToken = strings.TrimSpace(string(b))
		}
	}
	if strings.ContainsAny(c.UpstreamToken, " \t\r\n") {
		errs = append(errs, errors.New("--upstream-token: a token has no white space inside"))
	}
	if c.UpstreamMaxBody <= 0 {
		errs = append(errs, fmt.Errorf("--upstream-max-body %d: must be positive", c.UpstreamMaxBody))
	}
	if c.UpstreamTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--upstream-timeout %s: must be positive", c.UpstreamTimeout))
	}
	if c.UpstreamResolveTTL <= 0 {
		errs = append(errs, fmt.Errorf("--upstream-resolve-ttl %s: must be positive", c.UpstreamResolveTTL))
	}
	if len(c.UpstreamResolve) > 0 && (c.Upstream == "" || c.Upstream == UpstreamSandbox) {
		errs = append(errs, errors.New("--upstream-resolve needs --upstream URL"))
	}
	if c.SecretKeyFile != "" {
		if _, err := os.Stat(c.SecretKeyFile); err != nil {
			errs = append(errs, fmt.Errorf("--secret-key-file: %w", err))
		}
	}
	return errs
}

// Logger builds the slog logger the config asks for, writing to w through a
// buffer: the caller runs the buffer's flush loop (b.Run) and flushes at exit.
// Warnings and errors are written at once.
func (c *Config) Logger(w io.Writer) (*slog.Logger, *logging.Buffered) {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	b := logging.NewBuffered(w)
	return logging.New(b, c.LogFormat != "text", opts), b
}
