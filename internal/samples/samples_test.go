package samples

import (
	"archive/zip"
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

const publicURL = "https://coze.example.com"

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// fakePrograms is a program tree with every language × type, so the config
// and minting tests do not depend on which programs are committed.
func fakePrograms() fs.FS {
	m := fstest.MapFS{}
	for _, l := range Languages {
		m["programs/"+l+"/common/bootstrap.sh"] = &fstest.MapFile{Data: []byte("#!/usr/bin/env bash\n")}
		m["programs/"+l+"/common/bootstrap.ps1"] = &fstest.MapFile{Data: []byte("Write-Output hi\n")}
		m["programs/"+l+"/common/shared.txt"] = &fstest.MapFile{Data: []byte("common")}
		m["programs/"+l+"/common/.DS_Store"] = &fstest.MapFile{Data: []byte("junk")}
		for _, typ := range ClientTypes {
			m["programs/"+l+"/"+typ+"/main.txt"] = &fstest.MapFile{Data: []byte(typ)}
			m["programs/"+l+"/"+typ+"/shared.txt"] = &fstest.MapFile{Data: []byte("override " + typ)}
		}
	}
	return m
}

func withPrograms(t *testing.T, fsys fs.FS) {
	old := programs
	programs = fsys
	t.Cleanup(func() { programs = old })
}

type world struct {
	db    *sqlstore.DB
	oauth *oauth.Service
	maker *Maker
	apps  map[string]store.App // by config client_type
	user  store.User
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	db, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "cozeauth.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	u, err := (&identity.Service{Store: db, Now: time.Now}).CreateUser(ctx, "alice", "correct horse battery", "Alice")
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	now := func() time.Time { return fixedNow }
	svc := (&oauth.Service{Store: db, Catalog: permission.Default(), Lifetimes: oauth.DefaultLifetimes(),
		PublicURL: publicURL, Now: now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}).Init(&cache.Generation{})
	w := &world{db: db, oauth: svc, user: u, apps: map[string]store.App{},
		maker: &Maker{Mint: svc, Store: db, PublicURL: publicURL, Now: now}}
	for typ, ct := range map[string]store.ClientType{"web": store.ClientWebBackend, "pkce": store.ClientSinglePageOrNative,
		"device": store.ClientTerminal, "jwt": store.ClientService} {
		spec := oauth.AppSpec{Owner: u.Account(), CreatedBy: u.ID, Type: ct, Name: typ + " app", Permissions: []string{"Bot.chat"}}
		if oauth.UsesRedirect(ct) {
			spec.RedirectURIs = []string{"https://app.example/cb"}
		}
		app, _, err := svc.CreateApp(ctx, spec)
		if err != nil {
			t.Fatalf("CreateApp(%s): %v", typ, err)
		}
		w.apps[typ] = app
	}
	return w
}

func unzip(t *testing.T, data []byte) (map[string][]byte, map[string]fs.FileMode, []string) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	files, modes := map[string][]byte{}, map[string]fs.FileMode{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		files[f.Name], modes[f.Name] = body, f.Mode()
		names = append(names, f.Name)
	}
	return files, modes, names
}

// loadLikeSDKs applies the field rules of Coze's config loaders (WIRE.md §9):
// coze-go's LoadOAuthAppFromConfig (client_type one of four; client_id;
// client_secret for web; private_key as PKCS#8 PEM and public_key_id for jwt;
// coze_api_base optional), cozepy's load_oauth_app_from_config (the same
// client types; coze_api_base effectively required) and the JS quickstart
// servers (client_id, coze_api_base; client_secret for web; private_key and
// public_key_id for jwt). It returns the parsed private key of a jwt config.
func loadLikeSDKs(raw []byte) (map[string]string, *rsa.PrivateKey, error) {
	var cfg map[string]string // every field is a string; anything else fails to decode, as in coze-go's struct
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, nil, fmt.Errorf("decode: %w", err)
	}
	need := func(k string) error {
		if cfg[k] == "" {
			return fmt.Errorf("%s is required", k)
		}
		return nil
	}
	if err := need("client_id"); err != nil {
		return nil, nil, err
	}
	if err := need("coze_api_base"); err != nil { // cozepy and JS
		return nil, nil, err
	}
	for _, k := range []string{"coze_api_base", "coze_www_base"} {
		if v, ok := cfg[k]; ok {
			if u, err := url.Parse(v); err != nil || !u.IsAbs() || u.Host == "" || strings.HasSuffix(v, "/") {
				return nil, nil, fmt.Errorf("%s %q is not an absolute base URL without a trailing slash", k, v)
			}
		}
	}
	switch cfg["client_type"] {
	case "pkce", "device":
		return cfg, nil, nil
	case "web":
		return cfg, nil, need("client_secret")
	case "jwt":
		if err := need("public_key_id"); err != nil {
			return nil, nil, err
		}
		block, _ := pem.Decode([]byte(cfg["private_key"]))
		if block == nil || block.Type != "PRIVATE KEY" {
			return nil, nil, errors.New("private_key is not a PKCS#8 PEM block")
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("private_key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, nil, errors.New("private_key is not RSA")
		}
		return cfg, rk, nil
	default:
		return nil, nil, fmt.Errorf("invalid client_type %q", cfg["client_type"])
	}
}

// keyOrder returns the top-level keys of a JSON object in file order.
func keyOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("config is not a JSON object: %v", err)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("config: %v", err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	return keys
}

func TestMakeConfigsFollowSDKLoaders(t *testing.T) {
	withPrograms(t, fakePrograms())
	w := newWorld(t)
	wantKeys := map[string][]string{
		"web":    {"client_type", "client_id", "client_secret", "coze_api_base", "coze_www_base"},
		"pkce":   {"client_type", "client_id", "coze_api_base", "coze_www_base"},
		"device": {"client_type", "client_id", "coze_api_base", "coze_www_base"},
		"jwt":    {"client_type", "client_id", "private_key", "public_key_id", "coze_api_base", "coze_www_base"},
	}
	for _, typ := range ClientTypes {
		for _, lang := range Languages {
			t.Run(typ+"/"+lang, func(t *testing.T) {
				ctx := t.Context()
				app := w.apps[typ]
				res, err := w.maker.Make(ctx, Request{App: app, Lang: lang, RegisterRedirect: true})
				if err != nil {
					t.Fatalf("Make: %v", err)
				}
				files, modes, names := unzip(t, res.Zip)
				wantNames := []string{ConfigFile, ReadmeFile, "bootstrap.ps1", "bootstrap.sh", "main.txt", "shared.txt"}
				if !slices.Equal(names, wantNames) {
					t.Errorf("zip files = %v, want %v", names, wantNames)
				}
				if got := string(files["shared.txt"]); got != "override "+typ {
					t.Errorf("shared.txt = %q: the type's file must override common", got)
				}
				if modes["bootstrap.sh"].Perm() != 0o755 || modes["bootstrap.ps1"].Perm() != 0o644 {
					t.Errorf("modes: bootstrap.sh %v, bootstrap.ps1 %v; want 0755 and 0644", modes["bootstrap.sh"], modes["bootstrap.ps1"])
				}
				raw := files[ConfigFile]
				if got := keyOrder(t, raw); !slices.Equal(got, wantKeys[typ]) {
					t.Errorf("config keys = %v, want %v", got, wantKeys[typ])
				}
				if !bytes.HasPrefix(raw, []byte("{\n  \"client_type\": ")) {
					t.Errorf("config is not 2-space indented JSON:\n%s", raw)
				}
				cfg, priv, err := loadLikeSDKs(raw)
				if err != nil {
					t.Fatalf("the SDK loaders refuse the config: %v\n%s", err, raw)
				}
				if cfg["client_type"] != typ || cfg["client_id"] != app.ClientID || cfg["coze_api_base"] != publicURL || cfg["coze_www_base"] != publicURL {
					t.Errorf("config = %v", cfg)
				}
				if res.ClientType != typ || res.ClientID != app.ClientID || res.Filename != Filename(lang, typ, app.ClientID) {
					t.Errorf("result = %+v", res)
				}
				switch typ {
				case "web":
					sec, err := w.db.GetAppSecretByHash(ctx, app.ID, credential.Hash(cfg["client_secret"]))
					if err != nil {
						t.Fatalf("the config's client secret is not the app's: %v", err)
					}
					if sec.ID != res.SecretID || sec.Label != "sample 2026-03-04" {
						t.Errorf("secret %+v, want ID %s labelled %q", sec, res.SecretID, "sample 2026-03-04")
					}
				case "jwt":
					k, err := w.db.GetAppKey(ctx, app.ID, cfg["public_key_id"])
					if err != nil {
						t.Fatalf("public_key_id is not a registered key: %v", err)
					}
					if k.Label != "sample 2026-03-04" || k.ID != res.PublicKeyID {
						t.Errorf("key %s labelled %q, want labelled %q, ID %s", k.ID, k.Label, "sample 2026-03-04", res.PublicKeyID)
					}
					block, _ := pem.Decode([]byte(k.PublicKeyPEM))
					pub, err := x509.ParsePKIXPublicKey(block.Bytes)
					if err != nil {
						t.Fatalf("registered key: %v", err)
					}
					if !priv.PublicKey.Equal(pub) {
						t.Error("the private key does not match the registered public key")
					}
					if strings.Contains(k.PublicKeyPEM, "PRIVATE") {
						t.Error("the store holds a private key")
					}
				}
				if typ == "web" || typ == "pkce" {
					got, err := w.oauth.GetApp(ctx, app.ID)
					if err != nil {
						t.Fatal(err)
					}
					if res.RedirectURI != "http://127.0.0.1:8080/callback" || !res.RedirectRegistered || !slices.Contains(got.RedirectURIs, res.RedirectURI) {
						t.Errorf("redirect %q registered=%v; app has %v", res.RedirectURI, res.RedirectRegistered, got.RedirectURIs)
					}
				} else if res.RedirectURI != "" || res.SecretID != "" && typ != "web" {
					t.Errorf("result = %+v", res)
				}
				readme := string(files[ReadmeFile])
				for _, want := range []string{"bash bootstrap.sh", `.\bootstrap.ps1`, "http://127.0.0.1:8080", "授权", "trying out only"} {
					if !strings.Contains(readme, want) {
						t.Errorf("README lacks %q", want)
					}
				}
			})
		}
	}
}

func TestMakeRedirectAndPort(t *testing.T) {
	withPrograms(t, fakePrograms())
	w := newWorld(t)
	ctx := t.Context()
	app := w.apps["pkce"]
	res, err := w.maker.Make(ctx, Request{App: app, Lang: "go", Port: 9123})
	if err != nil {
		t.Fatal(err)
	}
	if res.RedirectURI != "http://127.0.0.1:9123/callback" || res.RedirectRegistered {
		t.Errorf("unticked: %+v", res)
	}
	got, _ := w.oauth.GetApp(ctx, app.ID)
	if slices.Contains(got.RedirectURIs, res.RedirectURI) {
		t.Error("the redirect URI was registered though not asked to")
	}
	files, _, _ := unzip(t, res.Zip)
	if !strings.Contains(string(files[ReadmeFile]), "PORT=9123 bash bootstrap.sh") {
		t.Error("README does not tell to run on port 9123")
	}
	for i := 0; i < 2; i++ {
		if _, err := w.maker.Make(ctx, Request{App: got, Lang: "go", Port: 9123, RegisterRedirect: true}); err != nil {
			t.Fatal(err)
		}
		got, _ = w.oauth.GetApp(ctx, app.ID)
	}
	if n := strings.Count(strings.Join(got.RedirectURIs, " "), "http://127.0.0.1:9123/callback"); n != 1 {
		t.Errorf("redirect URIs %v: want the sample's once", got.RedirectURIs)
	}
}

func TestMakeRefusals(t *testing.T) {
	withPrograms(t, fakePrograms())
	w := newWorld(t)
	ctx := t.Context()
	if err := w.oauth.Deactivate(ctx, w.apps["jwt"].ID); err != nil {
		t.Fatal(err)
	}
	deactivated, _ := w.oauth.GetApp(ctx, w.apps["jwt"].ID)
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"unknown language", Request{App: w.apps["web"], Lang: "rust"}, ErrUnknownLanguage},
		{"empty language", Request{App: w.apps["web"], Lang: ""}, ErrUnknownLanguage},
		{"deactivated", Request{App: deactivated, Lang: "python"}, ErrDeactivated},
		{"bad port", Request{App: w.apps["web"], Lang: "python", Port: 70000}, ErrBadPort},
		{"unknown client type", Request{App: store.App{ID: "x", ClientType: "Robot", Active: true}, Lang: "python"}, ErrUnknownClientType},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.maker.Make(ctx, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Make = %v, want %v", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") || err.Error() == "" {
				t.Errorf("error %q is not one clear line", err)
			}
		})
	}
	secs, _ := w.db.ListAppSecrets(ctx, w.apps["web"].ID)
	keys, _ := w.db.ListAppKeys(ctx, w.apps["jwt"].ID)
	if len(secs) != 1 || len(keys) != 0 {
		t.Errorf("a refused request minted something: %d secrets (want the app's first), %d keys", len(secs), len(keys))
	}
	withPrograms(t, fstest.MapFS{"programs/README.md": &fstest.MapFile{Data: []byte("x")}})
	if _, err := w.maker.Make(ctx, Request{App: w.apps["web"], Lang: "python"}); err == nil || !strings.Contains(err.Error(), "no python program") {
		t.Errorf("Make without programs = %v", err)
	}
	if secs2, _ := w.db.ListAppSecrets(ctx, w.apps["web"].ID); len(secs2) != 1 {
		t.Error("a bundle without a program minted a secret")
	}
}

// sourceExt is the extension of each language's program sources.
var sourceExt = map[string][]string{"python": {".py"}, "javascript": {".js", ".mjs", ".cjs"}, "go": {".go"}, "java": {".java"}}

// TestEmbeddedPrograms checks the real program tree: for every language ×
// client type a bundle has the config, the README, bootstrap.sh (0755),
// bootstrap.ps1 and the language's sources at its top level, Go sources stay
// out of cozeauth's build, and no build leftovers are shipped. Until every
// program is committed a missing one skips, except under CI.
func TestEmbeddedPrograms(t *testing.T) {
	cfgs := map[string]Config{
		"web":    {ClientType: "web", ClientID: "1", ClientSecret: "czs_x", CozeAPIBase: publicURL, CozeWWWBase: publicURL},
		"pkce":   {ClientType: "pkce", ClientID: "1", CozeAPIBase: publicURL, CozeWWWBase: publicURL},
		"device": {ClientType: "device", ClientID: "1", CozeAPIBase: publicURL, CozeWWWBase: publicURL},
		"jwt":    {ClientType: "jwt", ClientID: "1", PrivateKey: "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n", PublicKeyID: "k", CozeAPIBase: publicURL, CozeWWWBase: publicURL},
	}
	for _, lang := range Languages {
		for _, typ := range ClientTypes {
			t.Run(lang+"/"+typ, func(t *testing.T) {
				names, err := Files(lang, typ)
				if err != nil {
					if os.Getenv("CI") != "true" && strings.Contains(err.Error(), "no "+lang+" program") {
						t.Skipf("not committed yet: %v", err)
					}
					t.Fatalf("Files: %v", err)
				}
				var buf bytes.Buffer
				if err := Build(&buf, Bundle{Lang: lang, Config: cfgs[typ], ModTime: fixedNow}); err != nil {
					t.Fatalf("Build: %v", err)
				}
				files, modes, zipNames := unzip(t, buf.Bytes())
				if !slices.Equal(zipNames, names) {
					t.Errorf("zip has %v, Files says %v", zipNames, names)
				}
				for _, want := range []string{ConfigFile, ReadmeFile, "bootstrap.sh", "bootstrap.ps1"} {
					if _, ok := files[want]; !ok {
						t.Errorf("bundle lacks %s: %v", want, zipNames)
					}
				}
				sources := 0
				for _, n := range zipNames {
					if strings.ContainsAny(n, `/\`) {
						t.Errorf("%s is not at the top level", n)
					}
					if strings.HasSuffix(n, ".sh") && modes[n].Perm() != 0o755 {
						t.Errorf("%s has mode %v, want 0755", n, modes[n])
					}
					if slices.Contains(sourceExt[lang], filepath.Ext(n)) {
						sources++
					}
					for _, l := range Languages {
						if l != lang && !slices.Contains(sourceExt[lang], filepath.Ext(n)) && slices.Contains(sourceExt[l], filepath.Ext(n)) {
							t.Errorf("%s bundle holds %s, a %s source", lang, n, l)
						}
					}
					if lang == "go" && strings.HasSuffix(n, ".go") && !bytes.HasPrefix(files[n], []byte("//go:build ignore\n")) {
						t.Errorf("%s does not begin with //go:build ignore", n)
					}
					if strings.HasSuffix(n, ".class") || strings.HasSuffix(n, ".pyc") || strings.HasPrefix(n, ".") {
						t.Errorf("%s is a build leftover", n)
					}
				}
				if sources == 0 {
					t.Errorf("bundle has no %s source: %v", lang, zipNames)
				}
				if !bytes.HasPrefix(files["bootstrap.sh"], []byte("#!")) {
					t.Error("bootstrap.sh has no #! line")
				}
			})
		}
	}
}

func TestConfigValidate(t *testing.T) {
	base := Config{ClientType: "web", ClientID: "1", ClientSecret: "s", CozeAPIBase: publicURL, CozeWWWBase: publicURL}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"bad type", func(c *Config) { c.ClientType = "WebBackend" }, "unknown client type"},
		{"no secret", func(c *Config) { c.ClientSecret = "" }, "client_secret is required"},
		{"secret on pkce", func(c *Config) { c.ClientType = "pkce" }, "only to client_type web"},
		{"jwt without key", func(c *Config) { c.ClientType, c.ClientSecret = "jwt", "" }, "private_key is required"},
		{"key on device", func(c *Config) { c.ClientType, c.ClientSecret, c.PrivateKey = "device", "", "k" }, "only to client_type jwt"},
		{"no api base", func(c *Config) { c.CozeAPIBase = "" }, "coze_api_base is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mutate(&c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("Validate = %v, want %q", err, tc.want)
			}
		})
	}
}
