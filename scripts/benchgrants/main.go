// Command benchgrants measures cozeauth's token endpoint under load: the
// JWT-bearer grant, the authorization-code exchange, the refresh grant and
// the device-code redemption, each for a fixed time with concurrent
// keep-alive clients against the real binary on loopback. It prints tokens/s
// and latency percentiles per grant.
//
// Clients' own work (RSA signing of JWTs, consenting to make codes, approving
// device codes) happens before the timed part: JWTs are signed, authorization
// codes and approved device codes are stored ahead, so the figures are the
// server's.
package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
	"github.com/cozeauth/cozeauth/scripts/internal/loopback"
	"github.com/cozeauth/cozeauth/scripts/internal/proccpu"
)

func main() {
	bin := flag.String("bin", "bin/cozeauth", "cozeauth binary")
	dsn := flag.String("db", "", "database DSN (default: a fresh SQLite file in a temp dir)")
	dur := flag.Duration("duration", 5*time.Second, "load time per grant")
	conns := flag.Int("conns", 32, "concurrent clients")
	rate := flag.Int("max-rate", 8000, "JWTs and codes prepared per second of -duration (upper bound of the measurable rate)")
	flag.StringVar(&profileDir, "profile", "", "run the server in this process instead of the binary and write a CPU profile of each grant's load to this directory (the profile includes the load clients)")
	hydraPublic := flag.String("hydra-public", "", "measure Ory Hydra's grants instead, on this public URL (scripts/bench-compare)")
	hydraAdmin := flag.String("hydra-admin", "", "Hydra's admin URL, with -hydra-public")
	flag.Parse()
	if flag.NArg() > 0 {
		// Go's flag parsing stops at the first argument that is not a flag:
		// whatever follows it would be ignored silently.
		fmt.Fprintf(os.Stderr, "benchgrants: unexpected argument %q (flags after it would be ignored)\n", flag.Arg(0))
		os.Exit(2)
	}
	var err error
	if *hydraPublic != "" || *hydraAdmin != "" {
		fmt.Printf("benchgrants: Ory Hydra, %d clients, %s per grant\n", *conns, *dur)
		err = runHydra(strings.TrimSuffix(*hydraPublic, "/"), strings.TrimSuffix(*hydraAdmin, "/"), *dur, *conns, *rate)
	} else {
		fmt.Printf("benchgrants: %d clients, %s per grant, db %s\n", *conns, *dur, dbKind(*dsn))
		err = run(*bin, *dsn, *dur, *conns, *rate)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgrants:", err)
		os.Exit(1)
	}
}

func run(bin, dsn string, dur time.Duration, conns, rate int) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "cozeauth-benchgrants-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if dsn == "" {
		dsn = filepath.Join(tmp, "bench.db")
	}
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()

	addr, err := loopback.FreeAddr()
	if err != nil {
		return err
	}
	base := "http://" + addr
	svc := (&oauth.Service{Store: db, Catalog: permission.Default(), Lifetimes: oauth.DefaultLifetimes(), PublicURL: base,
		Now: time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(&cache.Generation{})
	ids := &identity.Service{Store: db, Now: time.Now}
	user, err := ids.CreateUser(ctx, fmt.Sprintf("bench%d", time.Now().UnixNano()), "password-1", "")
	if err != nil {
		return err
	}
	jwtApp, _, err := svc.CreateApp(ctx, oauth.AppSpec{Owner: user.Account(), CreatedBy: user.ID, Type: store.ClientService, Name: "bench jwt", Permissions: []string{"Bot.chat"}})
	if err != nil {
		return err
	}
	key, privPEM, err := svc.GenerateKey(ctx, jwtApp.ID)
	if err != nil {
		return err
	}
	if _, err := svc.AuthorizeApp(ctx, jwtApp.ID, user.ID, true, nil); err != nil {
		return err
	}
	webApp, secret, err := svc.CreateApp(ctx, oauth.AppSpec{Owner: user.Account(), CreatedBy: user.ID, Type: store.ClientWebBackend, Name: "bench web",
		RedirectURIs: []string{"http://127.0.0.1:9/cb"}, Permissions: []string{"Bot.chat"}})
	if err != nil {
		return err
	}
	grant, err := db.PutGrant(ctx, store.Grant{ID: store.NewID(), AppID: webApp.ID, Kind: store.GrantOBO, UserID: user.ID, Owner: user.Account(),
		Permissions: []string{"Bot.chat"}, AllWorkspaces: true, CreatedAt: time.Now().Unix(), UpdatedAt: time.Now().Unix()})
	if err != nil {
		return err
	}

	devApp, _, err := svc.CreateApp(ctx, oauth.AppSpec{Owner: user.Account(), CreatedBy: user.ID, Type: store.ClientTerminal, Name: "bench device",
		Permissions: []string{"Bot.chat"}})
	if err != nil {
		return err
	}
	devGrant, err := db.PutGrant(ctx, store.Grant{ID: store.NewID(), AppID: devApp.ID, Kind: store.GrantOBO, UserID: user.ID, Owner: user.Account(),
		Permissions: []string{"Bot.chat"}, AllWorkspaces: true, CreatedAt: time.Now().Unix(), UpdatedAt: time.Now().Unix()})
	if err != nil {
		return err
	}

	n := int(dur.Seconds()) * rate
	fmt.Printf("preparing %d signed JWTs, %d authorization codes and %d approved device codes (client-side work, not timed)…\n", n, n, n)
	block, _ := pem.Decode([]byte(privPEM))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return err
	}
	now := time.Now()
	jwts, err := signJWTs(k.(*rsa.PrivateKey), key.ID, n, func(i int) jwt.MapClaims {
		return jwt.MapClaims{"iss": jwtApp.ClientID, "aud": addr, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			"jti": fmt.Sprintf("bench-%d-%d", now.UnixNano(), i)}
	})
	if err != nil {
		return err
	}
	codes, err := storeCodes(ctx, db, webApp, grant, n)
	if err != nil {
		return err
	}
	devices, err := storeDeviceCodes(ctx, db, devApp, devGrant, n)
	if err != nil {
		return err
	}

	stop, pid, err := startServer(bin, addr, dsn)
	if err != nil {
		return err
	}
	defer stop()
	cpu = cpuProbe{serverPID: pid, postgres: dbKind(dsn) == "PostgreSQL"}
	if err := loopback.WaitReady(base+"/readyz", 20*time.Second); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}, Timeout: 10 * time.Second}
	tokenURL := base + "/api/permission/oauth2/token"

	jwtBody := []byte(`{"grant_type":"urn:ietf:params:oauth:grant-type:jwt-bearer","duration_seconds":900}`)
	measureEach("jwt-bearer", dur, conns, jwts, func(jwt string) error {
		_, err := post(client, tokenURL, jwt, jwtBody)
		return err
	})

	refreshes := measureCodes("authorization_code", dur, conns, codes, func(code string) (tokenOut, error) {
		body, _ := json.Marshal(map[string]string{"grant_type": "authorization_code", "client_id": webApp.ClientID,
			"code": code, "redirect_uri": webApp.RedirectURIs[0]})
		return post(client, tokenURL, secret, body)
	})
	measureRefresh("refresh_token", dur, conns, refreshes, func(rt string) (string, error) {
		body, _ := json.Marshal(map[string]string{"grant_type": "refresh_token", "client_id": webApp.ClientID, "refresh_token": rt})
		out, err := post(client, tokenURL, secret, body)
		return out.RefreshToken, err
	})

	measureEach("device_code", dur, conns, devices, func(device string) error {
		body, _ := json.Marshal(map[string]string{"grant_type": oauth.GrantTypeDeviceCode, "client_id": devApp.ClientID, "device_code": device})
		_, err := post(client, tokenURL, "", body)
		return err
	})
	return nil
}

func dbKind(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "PostgreSQL"
	}
	return "SQLite"
}

var errExhausted = errors.New("prepared inputs exhausted")

type tokenOut struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func post(c *http.Client, url, bearer string, body []byte) (tokenOut, error) {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := c.Do(req)
	if err != nil {
		return tokenOut{}, err
	}
	return readToken(resp)
}

// readToken reads a token response: the tokens of a 200, an error otherwise.
func readToken(resp *http.Response) (tokenOut, error) {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return tokenOut{}, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	var out tokenOut
	return out, json.Unmarshal(b, &out)
}

type result struct {
	ok, failed int
	elapsed    time.Duration
	lat        []time.Duration
	firstErr   error
	exhausted  bool
}

// load runs do from conns goroutines for dur. perWorker, when given, makes
// each goroutine's own do.
func load(dur time.Duration, conns int, do func() error, perWorker ...func() func() error) result {
	var mu sync.Mutex
	var res result
	deadline := time.Now().Add(dur)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := do
			if len(perWorker) > 0 {
				f = perWorker[0]()
			}
			var lat []time.Duration
			ok, failed := 0, 0
			var first error
			exhausted := false
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := f()
				if errors.Is(err, errExhausted) {
					exhausted = true
					break
				}
				if err != nil {
					failed++
					if first == nil {
						first = err
					}
					continue
				}
				ok++
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.ok += ok
			res.failed += failed
			res.lat = append(res.lat, lat...)
			res.exhausted = res.exhausted || exhausted
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// cpuProbe says whose CPU time each grant's load is charged to.
type cpuProbe struct {
	// serverPID is the server binary's process: 0 when the server runs in
	// this process, -1 when it is not ours to read (Hydra).
	serverPID int
	postgres  bool // the database is PostgreSQL: charge the local "postgres" processes, if any
}

// cpu is the run's cpuProbe (set once the server has started).
var cpu cpuProbe

// cpuSample is the CPU time used so far by the server, this process (the
// load clients, plus the server when it runs here) and the local
// PostgreSQL; -1 for what cannot be read.
type cpuSample struct{ server, self, postgres time.Duration }

func (p cpuProbe) sample() cpuSample {
	c := cpuSample{server: -1, self: proccpu.Of(os.Getpid()), postgres: -1}
	if p.serverPID > 0 {
		c.server = proccpu.Of(p.serverPID)
	}
	if p.postgres {
		if d, n := proccpu.OfCommand("postgres"); n > 0 {
			c.postgres = d
		}
	}
	return c
}

// perGrant is the CPU time each process used per token issued between a
// and b, as a report line ("" when nothing could be read).
func (p cpuProbe) perGrant(a, b cpuSample, ok int) string {
	if ok == 0 || a.self < 0 || b.self < 0 {
		return ""
	}
	us := func(a, b time.Duration) string {
		return fmt.Sprintf("%.0fµs", float64((b-a)/time.Duration(ok))/float64(time.Microsecond))
	}
	line := "  cpu per grant:"
	switch {
	case p.serverPID == 0:
		line += " this process (server and load clients) " + us(a.self, b.self)
	case a.server >= 0 && b.server >= 0:
		line += " server " + us(a.server, b.server) + ", load clients " + us(a.self, b.self)
	default:
		line += " load clients " + us(a.self, b.self)
	}
	if a.postgres >= 0 && b.postgres >= 0 {
		line += ", PostgreSQL (local postgres processes) " + us(a.postgres, b.postgres)
	}
	return line
}

// measure runs load with do and reports it as name, with the CPU time it
// cost each process, under a CPU profile when -profile is given.
func measure(name string, dur time.Duration, conns int, do func() error, perWorker ...func() func() error) {
	stop := startProfile(name)
	before := cpu.sample()
	r := load(dur, conns, do, perWorker...)
	after := cpu.sample()
	stop()
	report(name, r)
	if line := cpu.perGrant(before, after, r.ok); line != "" {
		fmt.Println(line)
	}
}

// measureEach measures do on each of inputs in turn, until the time is up
// or they are used up.
func measureEach(name string, dur time.Duration, conns int, inputs []string, do func(in string) error) {
	var next atomic.Int64
	measure(name, dur, conns, func() error {
		i := int(next.Add(1) - 1)
		if i >= len(inputs) {
			return errExhausted
		}
		return do(inputs[i])
	})
}

// measureCodes measures an authorization-code exchange of codes with
// exchange and returns the refresh tokens of the first exchanges, to seed
// measureRefresh.
func measureCodes(name string, dur time.Duration, conns int, codes []string, exchange func(code string) (tokenOut, error)) chan string {
	refreshes := make(chan string, conns*4)
	measureEach(name, dur, conns, codes, func(code string) error {
		out, err := exchange(code)
		if err == nil {
			select {
			case refreshes <- out.RefreshToken:
			default:
			}
		}
		return err
	})
	return refreshes
}

// measureRefresh measures a refresh grant: each client rotates a chain of
// its own, started from a refresh token taken from seeds (a client that finds
// none has nothing to do), with rotate, which returns the next refresh token.
func measureRefresh(name string, dur time.Duration, conns int, seeds chan string, rotate func(rt string) (string, error)) {
	measure(name, dur, conns, nil, func() func() error {
		var rt string
		select {
		case rt = <-seeds:
		default:
		}
		return func() error {
			if rt == "" {
				return errExhausted
			}
			next, err := rotate(rt)
			if err == nil {
				rt = next
			}
			return err
		}
	})
}

func report(name string, r result) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))]
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Printf("%-24s %8.0f tokens/s  ok=%d failed=%d  p50=%.2fms p99=%.2fms", name, float64(r.ok)/r.elapsed.Seconds(), r.ok, r.failed,
		ms(pct(0.50)), ms(pct(0.99)))
	if r.exhausted {
		fmt.Print("  (stopped early: prepared inputs exhausted; raise -max-rate)")
	}
	fmt.Println()
	if r.firstErr != nil {
		fmt.Printf("  first error: %v\n", r.firstErr)
	}
}

// signJWTs signs n JWTs with priv under kid, the i-th with claims(i).
func signJWTs(priv *rsa.PrivateKey, kid string, n int, claims func(i int) jwt.MapClaims) ([]string, error) {
	out := make([]string, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	workers := 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(i))
				t.Header["kid"] = kid
				s, err := t.SignedString(priv)
				if err != nil {
					firstErr.Store(err)
					return
				}
				out[i] = s
			}
		}(w)
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return nil, err
	}
	return out, nil
}

// storeCodes stores n authorization codes for grant, as consents would.
func storeCodes(ctx context.Context, db *sqlstore.DB, app store.App, g store.Grant, n int) ([]string, error) {
	now := time.Now()
	return prepare(n, func(i int) (string, error) {
		code := credential.NewOrderedToken("czc_")
		return code, db.CreateAuthCode(ctx, store.AuthCode{Hash: credential.Hash(code), AppID: app.ID, GrantID: g.ID,
			RedirectURI: app.RedirectURIs[0], ExpiresAt: now.Add(time.Hour).Unix(), CreatedAt: now.Unix()})
	})
}

// storeDeviceCodes stores n device codes already approved under grant, as
// users approving them on the device page would.
func storeDeviceCodes(ctx context.Context, db *sqlstore.DB, app store.App, g store.Grant, n int) ([]string, error) {
	now := time.Now()
	run := now.UnixNano()
	return prepare(n, func(i int) (string, error) {
		code := credential.NewOrderedToken("czd_")
		return code, db.CreateDeviceCode(ctx, store.DeviceCode{DeviceHash: credential.Hash(code), UserCode: fmt.Sprintf("B%d-%d", run, i),
			AppID: app.ID, GrantID: g.ID, Status: store.DeviceApproved, ExpiresAt: now.Add(time.Hour).Unix(), CreatedAt: now.Unix()})
	})
}

// prepare makes n inputs with mk, on a few goroutines.
func prepare(n int, mk func(i int) (string, error)) ([]string, error) {
	out := make([]string, n)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	const workers = 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += workers {
				v, err := mk(i)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				out[i] = v
			}
		}(w)
	}
	wg.Wait()
	return out, firstErr
}
