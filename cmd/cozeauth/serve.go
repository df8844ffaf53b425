package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/gcfloor"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/server"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

func newServe() *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the authorization server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("invalid configuration: %w", err)
			}
			return serve(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address HOST:PORT")
	f.StringVar(&cfg.DB, "db", cfg.DB, "database: a SQLite file path, sqlite:PATH, or postgres://…")
	f.StringVar(&cfg.PublicURL, "public-url", "", "public base URL of this server (default: http://ADDR)")
	f.BoolVar(&cfg.Dev, "dev", false, "seed a demo user, workspace and PAT and print how to use them (loopback addresses only)")
	f.BoolVar(&cfg.DevAllowRemote, "dev-allow-remote", false, "let --dev seed its demo credentials while listening on a non-loopback address")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "json or text")
	f.BoolVar(&cfg.AccessLog, "access-log", cfg.AccessLog, "log every request")
	f.DurationVar(&cfg.RevisionPoll, "revision-poll", cfg.RevisionPoll, "how often to check the database for revocations (at most 1s)")
	f.DurationVar(&cfg.LastUsedFlush, "last-used-flush", cfg.LastUsedFlush, "how often to write credentials' last-used times")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "how long to let in-flight requests finish on SIGTERM")
	f.DurationVar(&cfg.DBTimeout, "db-timeout", cfg.DBTimeout, "bound of each database call of a request (waiting for a connection included); past it the request gets 503")
	f.IntVar(&cfg.DBMaxConns, "db-max-conns", cfg.DBMaxConns, "database connection pool size (0: 8 on SQLite; on PostgreSQL 4 per CPU, at least 8)")
	f.IntVar(&cfg.GCHeapFloorMiB, "gc-heap-floor", cfg.GCHeapFloorMiB, "MiB the heap may reach before the garbage collector runs; above it GOGC applies as usual (0: GOGC alone)")
	f.DurationVar(&cfg.AccessTokenTTL, "access-token-ttl", cfg.AccessTokenTTL, "lifetime of OAuth access tokens (JWT grants use duration_seconds)")
	f.DurationVar(&cfg.RefreshTokenTTL, "refresh-token-ttl", cfg.RefreshTokenTTL, "lifetime of OAuth refresh tokens")
	f.DurationVar(&cfg.AuthCodeTTL, "auth-code-ttl", cfg.AuthCodeTTL, "lifetime of authorization codes")
	f.DurationVar(&cfg.DeviceCodeTTL, "device-code-ttl", cfg.DeviceCodeTTL, "lifetime of device codes")
	f.DurationVar(&cfg.DevicePollInterval, "device-poll-interval", cfg.DevicePollInterval, "device polling interval announced to clients (slow_down below it)")
	f.DurationVar(&cfg.RefreshRetryWindow, "refresh-retry-window", cfg.RefreshRetryWindow, "a rotated refresh token presented again within this window gets the same new pair (a client that lost the answer); 0 disables")
	f.StringArrayVar(&cfg.JWTAudiences, "jwt-audience", nil, "extra accepted JWT aud value (repeatable); --dev adds api.coze.cn and api.coze.com")
	f.StringArrayVar(&cfg.TrustedProxies, "trusted-proxy", nil, "CIDR or IP of a reverse proxy whose X-Forwarded-For names the client (repeatable)")
	f.StringVar(&cfg.TokenRate, "token-rate-limit", cfg.TokenRate, "requests to /token per client IP, as N/s or N/m (0: no limit)")
	f.StringVar(&cfg.TokenClientRate, "token-client-rate-limit", cfg.TokenClientRate, "requests to /token per client_id, burst N (0: no limit)")
	f.IntVar(&cfg.TokenBurst, "token-rate-burst", cfg.TokenBurst, "requests to /token allowed at once (0: the rate's N)")
	f.StringVar(&cfg.DeviceCodeRate, "device-code-rate-limit", cfg.DeviceCodeRate, "requests to /device/code per client IP, as N/s or N/m (0: no limit)")
	f.StringVar(&cfg.DeviceCodeClientRate, "device-code-client-rate-limit", cfg.DeviceCodeClientRate, "requests to /device/code per client_id, burst N (0: no limit)")
	f.IntVar(&cfg.DeviceCodeBurst, "device-code-rate-burst", cfg.DeviceCodeBurst, "requests to /device/code allowed at once (0: the rate's N)")
	f.IntVar(&cfg.DeviceGuessLimit, "device-guess-limit", cfg.DeviceGuessLimit, "wrong user codes a browser session may submit on the device page per window, 5x per client IP (0: no limit)")
	f.DurationVar(&cfg.DeviceGuessWindow, "device-guess-window", cfg.DeviceGuessWindow, "window of --device-guess-limit")
	f.DurationVar(&cfg.ClockOffset, "testing-clock-offset", 0, "shift the server's clock (for tests only)")
	_ = f.MarkHidden("testing-clock-offset")
	f.StringSliceVar(&cfg.CORSOrigins, "cors-origin", nil, "origin allowed to call the OAuth endpoints and the OpenAPI from a browser, besides PKCE apps' redirect URI origins (repeatable; env COZEAUTH_CORS_ORIGIN comma-separated)")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve /metrics on this HOST:PORT instead of the main address")
	f.StringVar(&cfg.MetricsToken, "metrics-token", "", "require \"Authorization: Bearer TOKEN\" on /metrics (env COZEAUTH_METRICS_TOKEN)")
	f.StringVar(&cfg.Upstream, "upstream", "", "gateway: base URL of the Coze-compatible OpenAPI to forward authorized catalog routes to, or \"sandbox\" (the default with --dev)")
	f.StringVar(&cfg.UpstreamToken, "upstream-token", "", "gateway: the credential sent to the upstream in place of the caller's (prefer COZEAUTH_UPSTREAM_TOKEN or --upstream-token-file)")
	f.StringVar(&cfg.UpstreamTokenFile, "upstream-token-file", "", "gateway: read the upstream credential from this file")
	f.BoolVar(&cfg.UpstreamAllowUnlisted, "upstream-allow-unlisted", false, "gateway: forward authenticated requests to routes not in the permission catalog (otherwise 4101)")
	f.Int64Var(&cfg.UpstreamMaxBody, "upstream-max-body", cfg.UpstreamMaxBody, "gateway: largest request body forwarded, in bytes (larger: 413)")
	f.DurationVar(&cfg.UpstreamTimeout, "upstream-timeout", cfg.UpstreamTimeout, "gateway: how long to wait for the upstream's response headers (then 504)")
	f.StringArrayVar(&cfg.UpstreamResolve, "upstream-resolve", nil, "gateway: ask the upstream which workspace an unknown resource lives in, TYPE=/PATH/{id}#json.field, e.g. bot=/v1/bots/{id}#data.space_id (repeatable)")
	f.DurationVar(&cfg.UpstreamResolveTTL, "upstream-resolve-ttl", cfg.UpstreamResolveTTL, "gateway: how long a resolved workspace is remembered (misses never are)")
	f.StringVar(&cfg.SecretKeyFile, "secret-key-file", "", "file with the 32-byte key (hex or base64) sealing per-user upstream tokens; required to use them")
	return cmd
}

func serve(cmd *cobra.Command, cfg config.Config) error {
	log, logBuf := cfg.Logger(os.Stderr)
	defer logBuf.Flush()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	flushCtx, stopFlush := context.WithCancel(context.Background())
	defer stopFlush()
	go logBuf.Run(flushCtx, 200*time.Millisecond)
	defer gcfloor.Start(uint64(cfg.GCHeapFloorMiB) << 20).Stop()

	s, err := sqlstore.Open(ctx, cfg.DB, sqlstore.MaxConns(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if cfg.Dev {
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			if !cfg.DevAllowRemote {
				ln.Close()
				return fmt.Errorf("--dev seeds a demo user with a published password; refusing to listen on %s, which is not a loopback address (use --addr 127.0.0.1:PORT, or add --dev-allow-remote if you mean it)", ln.Addr())
			}
		}
		if err := seedDev(ctx, s, cfg, cmd); err != nil {
			ln.Close()
			return fmt.Errorf("dev seed: %w", err)
		}
	}
	log.Info("cozeauth listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"db", s.Dialect().String(), "version", version, "upstream", cfg.Upstream)
	srv, err := server.New(cfg, s, log)
	if err != nil {
		ln.Close()
		return err
	}
	if cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		log.Info("metrics listening", "addr", mln.Addr().String())
		ms := &http.Server{Handler: srv.MetricsOnly(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = ms.Serve(mln) }()
		defer ms.Close()
	}
	return srv.Run(ctx, ln)
}

// Dev seed: a fixed demo user and workspace, and a PAT that is reused across
// restarts. The store keeps only the PAT's hash, so on SQLite its value is
// kept in a 0600 file beside the database (<db>.dev-pat), like any local
// credential file; a new PAT is minted when the file is missing or its token
// no longer works. PostgreSQL has no such place, so each start mints one.
const (
	devUser     = "demo"
	devPassword = "demo-password"
)

func seedDev(ctx context.Context, s store.Store, cfg config.Config, cmd *cobra.Command) error {
	ids := &identity.Service{Store: s, Now: time.Now}
	u, err := ids.ResolveUser(ctx, devUser)
	if errors.Is(err, store.ErrNotFound) {
		if u, err = ids.CreateUser(ctx, devUser, devPassword, "Demo User"); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	wss, err := s.ListWorkspacesByOwner(ctx, u.Account())
	if err != nil {
		return err
	}
	var ws store.Workspace
	if len(wss) > 0 {
		ws = wss[0]
	} else if ws, err = ids.CreateWorkspace(ctx, "Demo workspace", u.ID, ""); err != nil {
		return err
	}
	if _, err := s.GetResource(ctx, "bot", "demo-bot"); errors.Is(err, store.ErrNotFound) {
		if _, err := ids.CreateResource(ctx, ws.ID, "bot", "demo-bot"); err != nil {
			return err
		}
	}
	var perms []string
	for _, p := range permission.Default().All() {
		if p.Level != permission.LevelEnterprise {
			perms = append(perms, p.Name)
		}
	}
	patFile := devPATFile(cfg.DB)
	token, reused := reusableDevPAT(ctx, s, patFile, u.ID, time.Now())
	if !reused {
		m := &credential.Manager{Store: s, Catalog: permission.Default(), Now: time.Now}
		pat, err := m.Create(ctx, credential.Spec{Kind: store.KindPAT, Name: "dev " + time.Now().Format(time.DateTime),
			UserID: u.ID, Expiry: credential.Expiry{Days: 30}, Permissions: perms, AllWorkspaces: true})
		if err != nil {
			return err
		}
		token = pat.Token
		if patFile != "" {
			if err := os.WriteFile(patFile, []byte(token+"\n"), 0o600); err != nil {
				return fmt.Errorf("keep the dev PAT: %w", err)
			}
		}
	}
	patNote := "new, 30 days"
	if reused {
		patNote = "reused from " + patFile
	} else if patFile != "" {
		patNote = "new, 30 days, kept in " + patFile
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, `
cozeauth dev mode — demo data is ready
  console:    %s/console   (sign in as %s / %s)
  user:       %s (user_id and account_id %s)
  workspace:  %s (%s), with bot "demo-bot"
  PAT:        %s   (all permissions, all workspaces; %s)

Try it:
  curl -s -H 'Authorization: Bearer %s' %s/v1/users/me
  curl -s -H 'Authorization: Bearer %s' %s/v1/workspaces
  curl -s -H 'Authorization: Bearer %s' -d '{"permission":"Bot.chat","resource":{"type":"bot","id":"demo-bot"}}' %s/api/cozeauth/v1/authz/check

`, cfg.PublicURL, devUser, devPassword, devUser, u.ID, ws.Name, ws.ID, token, patNote,
		token, cfg.PublicURL, token, cfg.PublicURL, token, cfg.PublicURL)
	return nil
}

// devPATFile is where the dev PAT's value is kept: beside a SQLite database,
// nowhere for PostgreSQL.
func devPATFile(dsn string) string {
	if d, _, err := sqlstore.ParseDSN(dsn); err != nil || d != sqlstore.SQLite {
		return ""
	}
	return strings.TrimPrefix(dsn, "sqlite:") + ".dev-pat"
}

// reusableDevPAT returns the token kept in file if it is still a live PAT
// of the demo user with at least a day left.
func reusableDevPAT(ctx context.Context, s store.Store, file, userID string, now time.Time) (string, bool) {
	if file == "" {
		return "", false
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false
	}
	token := strings.TrimSpace(string(b))
	if k, ok := credential.KindOf(token); !ok || k != store.KindPAT {
		return "", false
	}
	c, err := s.GetCredentialByHash(ctx, credential.Hash(token))
	if err != nil || c.UserID != userID || (c.ExpireAt != 0 && c.ExpireAt < now.Add(24*time.Hour).Unix()) {
		return "", false
	}
	return token, true
}
