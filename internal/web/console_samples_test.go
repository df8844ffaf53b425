package web_test

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/samples"
	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
	"github.com/cozeauth/cozeauth/internal/web"
)

// sampleLang is a language whose programs of every client type are in this
// build (all are, once every program is committed; CI requires them).
func sampleLang(t *testing.T) string {
	t.Helper()
	for _, lang := range samples.Languages {
		ok := true
		for _, typ := range samples.ClientTypes {
			if _, err := samples.Files(lang, typ); err != nil {
				ok = false
			}
		}
		if ok {
			return lang
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no sample language has programs for every client type")
	}
	t.Skip("no sample language has programs for every client type yet")
	return ""
}

func unzipConfig(t *testing.T, p page) (map[string]string, []string) {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(p.body), int64(len(p.body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	var names []string
	var cfg map[string]string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Name != samples.ConfigFile {
			continue
		}
		rc, _ := f.Open()
		raw, _ := io.ReadAll(rc)
		rc.Close()
		if err := json.Unmarshal(raw, &cfg); err != nil {
			t.Fatalf("config: %v", err)
		}
	}
	return cfg, names
}

func (b *browser) sampleForm(appID string) url.Values {
	b.e.t.Helper()
	p := b.get("/console/apps/" + appID + "/sample")
	wantStatus(b.e.t, "sample page", p, http.StatusOK)
	return url.Values{"csrf_token": {p.hidden().Get("csrf_token")}}
}

func TestConsoleSampleDownload(t *testing.T) {
	lang := sampleLang(t)
	e := newEnv(t, func(h *web.Handler) {
		h.Enterprise = &enterprise.Service{Store: h.Store.(*sqlstore.DB), OAuth: h.OAuth, Catalog: permission.Default(), Now: time.Now}
	})
	ctx := t.Context()
	svc, _, err := e.oauth.CreateApp(ctx, oauth.AppSpec{Owner: e.user.Account(), CreatedBy: e.user.ID, Type: store.ClientService, Name: "Svc"})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn()
	label := "sample " + time.Now().UTC().Format("2006-01-02")

	list := b.get("/console/apps")
	wantBody(t, "list", list, `<th scope="col">Actions</th>`,
		`<a href="/console/apps/`+e.app.ID+`" aria-label="View Demo App">View</a>`,
		`<a href="/console/apps/`+e.app.ID+`/sample" aria-label="Download sample of Demo App">Download sample</a>`,
		`<a href="/console/apps/`+svc.ID+`#share-heading" aria-label="Share Svc">Share with an enterprise</a>`)
	if strings.Contains(list.body, `aria-label="Share Demo App"`) {
		t.Error("a web app row offers Share")
	}
	wantBody(t, "app page", b.get("/console/apps/"+e.app.ID), `href="/console/apps/`+e.app.ID+`/sample"`, ">Download sample</a>")

	t.Run("preview", func(t *testing.T) {
		p := b.get("/console/apps/" + e.app.ID + "/sample")
		wantStatus(t, "preview", p, http.StatusOK)
		wantNoStore(t, "preview", p)
		wantBody(t, "preview", p, `<code id="cfg-client-type">web</code>`, `<code id="cfg-client-id">`+e.app.ClientID+`</code>`,
			`<code id="cfg-api-base">http://x</code>`, `<code id="cfg-www-base">http://x</code>`,
			`<code id="cfg-redirect-uri">http://127.0.0.1:8080/callback</code>`, "a new one is created for this download",
			`id="lang-python" name="lang" value="python" checked`, `id="lang-javascript" name="lang" value="javascript">`,
			`id="lang-go" name="lang" value="go">`, `id="lang-java" name="lang" value="java">`,
			`id="register-redirect" name="register_redirect" value="1" checked`,
			"http://127.0.0.1:8080/callback is not registered yet: if you untick this, the sample will fail.", `<button type="submit" id="download" class="primary">Download</button>`)
		jp := b.get("/console/apps/" + svc.ID + "/sample")
		wantBody(t, "jwt preview", jp, `<code id="cfg-client-type">jwt</code>`, "a new key pair is created for this download", "PKCS#8")
		dp := b.get("/console/apps/" + e.device.ID + "/sample")
		wantBody(t, "device preview", dp, `<code id="cfg-client-type">device</code>`)
		for _, absent := range []string{"register-redirect", "cfg-redirect-uri", "a new one is created"} {
			if strings.Contains(dp.body, absent) {
				t.Errorf("device preview shows %q", absent)
			}
		}
		zb := e.browser() // the language sticks in a cookie
		zb.signIn()
		wantBody(t, "zh", zb.get("/console/apps/"+e.app.ID+"/sample?lang=zh-CN"), "下载", "将为本次下载新建", "尚未添加：如果取消勾选，示例将无法完成授权。")
	})

	secretsBefore, _ := e.store.ListAppSecrets(ctx, e.app.ID)
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		body   []string
	}{
		{"unknown language", url.Values{"lang": {"rust"}, "register_redirect": {"1"}}, http.StatusBadRequest, []string{"Choose Python, JavaScript, Go or Java."}},
		{"no language", url.Values{"register_redirect": {"1"}}, http.StatusBadRequest, []string{"Choose Python, JavaScript, Go or Java."}},
		{"bad port", url.Values{"lang": {lang}, "port": {"0"}, "register_redirect": {"1"}}, http.StatusBadRequest, []string{"Enter a port from 1 to 65535."}},
		{"unticked asks first", url.Values{"lang": {lang}, "port": {"8080"}}, http.StatusOK,
			[]string{"The sample will fail: http://127.0.0.1:8080/callback is not a redirect URI of this app", `name="confirm" value="1"`, "Download anyway"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := b.sampleForm(e.app.ID)
			for k, v := range tc.form {
				f[k] = v
			}
			p := b.post("/console/apps/"+e.app.ID+"/sample", f)
			wantStatus(t, tc.name, p, tc.status)
			wantBody(t, tc.name, p, tc.body...)
		})
	}
	if got, _ := e.store.ListAppSecrets(ctx, e.app.ID); len(got) != len(secretsBefore) {
		t.Fatalf("a refused download minted a secret")
	}
	if p := b.post("/console/apps/"+e.app.ID+"/sample", url.Values{"lang": {lang}, "register_redirect": {"1"}}); p.status != http.StatusForbidden {
		t.Errorf("POST without CSRF: status %d, want 403", p.status)
	}

	t.Run("web, confirmed without registering", func(t *testing.T) {
		f := b.sampleForm(e.app.ID)
		f.Set("lang", lang)
		f.Set("port", "9000")
		f.Set("confirm", "1")
		p := b.post("/console/apps/"+e.app.ID+"/sample", f)
		wantStatus(t, "download", p, http.StatusOK)
		if got, _ := e.store.GetApp(ctx, e.app.ID); slices.Contains(got.RedirectURIs, "http://127.0.0.1:9000/callback") {
			t.Error("registered a redirect URI the user unticked")
		}
	})

	t.Run("web", func(t *testing.T) {
		f := b.sampleForm(e.app.ID)
		f.Set("lang", lang)
		f.Set("port", "8080")
		f.Set("register_redirect", "1")
		p := b.post("/console/apps/"+e.app.ID+"/sample", f)
		wantStatus(t, "download", p, http.StatusOK)
		wantNoStore(t, "download", p)
		if ct := p.header.Get("Content-Type"); ct != "application/zip" {
			t.Errorf("Content-Type = %q", ct)
		}
		if cd := p.header.Get("Content-Disposition"); cd != `attachment; filename="`+samples.Filename(lang, "web", e.app.ClientID)+`"` {
			t.Errorf("Content-Disposition = %q", cd)
		}
		cfg, names := unzipConfig(t, p)
		if cfg["client_type"] != "web" || cfg["client_id"] != e.app.ClientID || cfg["coze_api_base"] != "http://x" || !strings.HasPrefix(cfg["client_secret"], "czs_") {
			t.Errorf("config = %v", cfg)
		}
		if !slices.Contains(names, "bootstrap.sh") || !slices.Contains(names, "README.md") {
			t.Errorf("zip = %v", names)
		}
		sec, err := e.store.GetAppSecretByHash(ctx, e.app.ID, credential.Hash(cfg["client_secret"]))
		if err != nil || sec.Label != label {
			t.Fatalf("the zip's secret: %+v %v; want it stored labelled %q", sec, err, label)
		}
		got, _ := e.store.GetApp(ctx, e.app.ID)
		if !slices.Contains(got.RedirectURIs, "http://127.0.0.1:8080/callback") {
			t.Errorf("redirect URIs %v lack the sample's", got.RedirectURIs)
		}
		show := b.get("/console/apps/" + e.app.ID)
		wantBody(t, "app page", show, `<th scope="col">Label</th>`, "<td>"+label+"</td>", "czs_…"+sec.Hint)
		if strings.Contains(show.body, cfg["client_secret"]) {
			t.Error("the app page shows the secret")
		}
		wantBody(t, "preview after", b.get("/console/apps/"+e.app.ID+"/sample"), "http://127.0.0.1:8080/callback is registered already.")
	})

	t.Run("jwt", func(t *testing.T) {
		f := b.sampleForm(svc.ID)
		f.Set("lang", lang)
		p := b.post("/console/apps/"+svc.ID+"/sample", f)
		wantStatus(t, "download", p, http.StatusOK)
		cfg, _ := unzipConfig(t, p)
		k, err := e.store.GetAppKey(ctx, svc.ID, cfg["public_key_id"])
		if err != nil || k.Label != label {
			t.Fatalf("the zip's key: %+v %v", k, err)
		}
		block, _ := pem.Decode([]byte(cfg["private_key"]))
		if block == nil || block.Type != "PRIVATE KEY" {
			t.Fatalf("private_key is not PKCS#8 PEM")
		}
		priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := pem.Decode([]byte(k.PublicKeyPEM))
		pub, _ := x509.ParsePKIXPublicKey(pb.Bytes)
		if !bytes.Equal(mustPKIX(t, priv.(crypto.Signer).Public()), mustPKIX(t, pub)) {
			t.Error("the private key does not match the registered public key")
		}
		wantBody(t, "app page", b.get("/console/apps/"+svc.ID), "<td>"+label+"</td>", k.ID)
	})

	t.Run("device", func(t *testing.T) {
		f := b.sampleForm(e.device.ID)
		f.Set("lang", lang)
		p := b.post("/console/apps/"+e.device.ID+"/sample", f)
		wantStatus(t, "download", p, http.StatusOK)
		cfg, _ := unzipConfig(t, p)
		if cfg["client_type"] != "device" || len(cfg) != 4 {
			t.Errorf("config = %v", cfg)
		}
	})
}

func mustPKIX(t *testing.T, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestConsoleSampleRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ids := &identity.Service{Store: e.store, Now: time.Now}
	bob, err := ids.CreateUser(ctx, "bob", password, "Bob")
	if err != nil {
		t.Fatal(err)
	}
	bobs, _, err := e.oauth.CreateApp(ctx, oauth.AppSpec{Owner: bob.Account(), CreatedBy: bob.ID, Type: store.ClientWebBackend,
		Name: "Bob web", RedirectURIs: []string{"https://bob.example/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.oauth.Deactivate(ctx, e.app.ID); err != nil {
		t.Fatal(err)
	}
	before := map[string]int{}
	for _, a := range []store.App{bobs, e.app} {
		secs, _ := e.store.ListAppSecrets(ctx, a.ID)
		before[a.ID] = len(secs)
	}
	b := e.browser()
	b.signIn()
	csrf := b.sampleForm(e.device.ID).Get("csrf_token")
	form := url.Values{"csrf_token": {csrf}, "lang": {"python"}, "register_redirect": {"1"}}

	wantStatus(t, "another user's app", b.get("/console/apps/"+bobs.ID+"/sample"), http.StatusNotFound)
	wantStatus(t, "another user's app (POST)", b.post("/console/apps/"+bobs.ID+"/sample", form), http.StatusNotFound)
	wantStatus(t, "missing app", b.get("/console/apps/nope/sample"), http.StatusNotFound)

	p := b.get("/console/apps/" + e.app.ID + "/sample")
	wantStatus(t, "deactivated", p, http.StatusConflict)
	wantBody(t, "deactivated", p, "This app is deactivated, so a sample of it could get no token.")
	if strings.Contains(p.body, `id="download"`) {
		t.Error("the deactivated app's page offers Download")
	}
	p = b.post("/console/apps/"+e.app.ID+"/sample", form)
	wantStatus(t, "deactivated (POST)", p, http.StatusConflict)
	wantBody(t, "deactivated (POST)", p, "This app is deactivated")
	if strings.Contains(b.get("/console/apps/"+e.app.ID).body, `id="download-sample"`) {
		t.Error("the deactivated app's page links to a sample")
	}
	for _, a := range []store.App{bobs, e.app} {
		secs, _ := e.store.ListAppSecrets(ctx, a.ID)
		got, _ := e.store.GetApp(ctx, a.ID)
		if len(secs) != before[a.ID] || len(got.RedirectURIs) != len(a.RedirectURIs) {
			t.Errorf("%s: a refused download changed it: %d secrets, URIs %v", a.Name, len(secs), got.RedirectURIs)
		}
	}
}
