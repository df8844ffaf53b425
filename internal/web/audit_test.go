package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/store"
)

// events lists the audit log, oldest first.
func (e *env) events(f store.AuditFilter) []store.AuditEvent {
	e.t.Helper()
	es, err := e.store.ListAudit(e.t.Context(), f)
	if err != nil {
		e.t.Fatalf("ListAudit: %v", err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// secretLike matches what must never be in an audit event: minted tokens and
// secrets (by prefix), SHA-256 hashes (alone or after an ordering key,
// credential.Hash), PEM blocks.
var secretLike = regexp.MustCompile(`(pat|sat|czs|czu|czr|czc|czd)_[0-9A-Za-z]{8,}|[0-9a-f]{64}|BEGIN [A-Z ]*KEY`)

// TestAuditConsoleEvents: sign-in failure and success and console changes
// each write one event naming the actor, the client IP and the target, and no
// event holds a secret, token or password.
func TestAuditConsoleEvents(t *testing.T) {
	e := newEnv(t)
	// Two failures from one client within a minute: one event.
	bad := e.browser()
	wantStatus(t, "wrong password", bad.login("alice", "wrong password 1", ""), http.StatusUnauthorized)
	wantStatus(t, "wrong password again", bad.login("alice", "wrong password 2", ""), http.StatusUnauthorized)
	wantStatus(t, "unknown user", bad.login("nobody", "wrong password 3", ""), http.StatusUnauthorized)
	fails := e.events(store.AuditFilter{Action: "signin.failure"})
	if len(fails) != 2 {
		t.Fatalf("signin.failure events = %d, want 2 (one per username and minute): %+v", len(fails), fails)
	}
	if f := fails[0]; f.TargetType != "user" || f.TargetID != e.user.ID || f.ActorID != "" || f.ActorType != store.ActorAnonymous ||
		f.IP != "127.0.0.1" || !strings.Contains(f.Detail, `"username":"alice"`) || !strings.Contains(f.Detail, `"wrong_password"`) {
		t.Errorf("failure event = %+v", f)
	}
	if f := fails[1]; f.TargetType != "username" || f.TargetID != "nobody" || !strings.Contains(f.Detail, `"unknown_user"`) {
		t.Errorf("unknown-user failure event = %+v", f)
	}

	b := e.browser()
	b.signIn()
	_, pat := b.createToken()
	if pat == "" {
		t.Fatal("no token created")
	}
	// Secrets and keys minted through the service the console and the
	// sample download use.
	ctx := store.WithActor(t.Context(), store.Actor{ID: e.user.ID, Type: store.ActorUser, IP: "203.0.113.9", LogID: "L-1"})
	app, secret, err := e.oauth.CreateApp(ctx, oauth.AppSpec{Name: "Audited", Type: store.ClientWebBackend, Owner: e.user.Account(),
		CreatedBy: e.user.ID, RedirectURIs: []string{redirectURI}, Permissions: []string{"Bot.chat"}})
	if err != nil {
		t.Fatal(err)
	}
	jwtApp, _, err := e.oauth.CreateApp(ctx, oauth.AppSpec{Name: "Jwt", Type: store.ClientService, Owner: e.user.Account(),
		CreatedBy: e.user.ID, Permissions: []string{"Bot.chat"}})
	if err != nil {
		t.Fatal(err)
	}
	_, priv, err := e.oauth.GenerateKey(ctx, jwtApp.ID)
	if err != nil {
		t.Fatal(err)
	}
	sec2, secret2, err := e.oauth.AddSecret(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.oauth.DeleteSecret(ctx, app.ID, sec2.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.oauth.Deactivate(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.oauth.DeleteApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	// A change that fails writes nothing.
	if err := e.oauth.DeleteSecret(ctx, jwtApp.ID, "no-such-secret"); err == nil {
		t.Fatal("deleting a missing secret succeeded")
	}

	got := e.events(store.AuditFilter{})
	var actions []string
	for _, ev := range got {
		actions = append(actions, ev.Action)
	}
	want := []string{"user.create", "workspace.create", "signin.failure", "signin.failure", "signin.success", "pat.create",
		"app.create", "app.secret.create", "app.create", "app.key.create", "app.secret.create", "app.secret.delete",
		"app.deactivate", "app.delete"}
	if strings.Join(actions, " ") != strings.Join(want, " ") {
		t.Errorf("actions in order =\n  %v\nwant\n  %v", actions, want)
	}
	for _, ev := range got {
		switch ev.Action {
		case "signin.success", "pat.create":
			if ev.ActorID != e.user.ID || ev.ActorType != store.ActorUser || ev.IP != "127.0.0.1" {
				t.Errorf("%s: actor %q/%q ip %q, want alice from 127.0.0.1", ev.Action, ev.ActorID, ev.ActorType, ev.IP)
			}
		case "app.create", "app.secret.create", "app.key.create", "app.secret.delete", "app.deactivate", "app.delete":
			if ev.ActorID != e.user.ID || ev.IP != "203.0.113.9" || ev.LogID != "L-1" || ev.TargetType != "app" {
				t.Errorf("%s: %+v", ev.Action, ev)
			}
		}
		for _, s := range []string{pat, secret, secret2, priv, password, "wrong password"} {
			if s != "" && strings.Contains(ev.Detail+ev.TargetID, s) {
				t.Errorf("%s holds a secret: %s", ev.Action, ev.Detail)
			}
		}
		if m := secretLike.FindString(ev.Detail + " " + ev.TargetID); m != "" {
			t.Errorf("%s: secret-looking value %q in %s", ev.Action, m, ev.Detail)
		}
	}
}

// TestAuditPage: filters, pagination, visibility and escaping of
// /console/audit.
func TestAuditPage(t *testing.T) {
	se := newSATEnv(t) // alice: SuperAdmin of Acme; carol: Member of Acme; bob: SuperAdmin of Other
	e := se.env
	ctx := t.Context()
	carol, bob := mustUser(t, e, "carol"), mustUser(t, e, "bob")
	add := func(actor, action, targetType, targetID, ent, detail string, at int64) store.AuditEvent {
		t.Helper()
		ev := store.AuditEvent{ID: store.NewAuditID(), At: at, ActorID: actor, ActorType: store.ActorUser, Action: action,
			TargetType: targetType, TargetID: targetID, EnterpriseID: ent, IP: "192.0.2.7", Detail: detail}
		if err := e.store.AppendAudit(ctx, ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	base := time.Now().Add(-time.Hour).Unix()
	add(carol.ID, "pat.create", "pat", "carol-acme-pat", se.acme.ID, "{}", base)
	add(carol.ID, "pat.create", "pat", "carol-personal-pat", "", "{}", base+1)
	add(bob.ID, "sat.create", "sat", "bob-other-sat", se.other.ID, "{}", base+2)
	add(e.user.ID, "app.update", "app", `"><img src=x onerror=alert(1)>`, "", `{"name":"<script>alert(1)</script>"}`, base+3)

	alice := e.browser()
	alice.signIn()
	p := alice.get("/console/audit")
	wantStatus(t, "alice's audit page", p, http.StatusOK)
	wantNoStore(t, "audit page", p)
	wantBody(t, "alice's audit page", p, `aria-current="page">Audit log</a>`, "carol-acme-pat", "every event of the enterprises you administer",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;")
	for _, no := range []string{"carol-personal-pat", "bob-other-sat", "<script>alert", "<img src=x"} {
		if strings.Contains(p.body, no) {
			t.Errorf("alice's audit page shows %q", no)
		}
	}

	filtered := alice.get("/console/audit?" + url.Values{"action": {"pat."}, "actor": {carol.ID}}.Encode())
	wantBody(t, "filtered", filtered, "carol-acme-pat", `value="pat."`)
	if strings.Contains(filtered.body, "app.update") || strings.Contains(filtered.body, "signin.success") {
		t.Errorf("the action filter let other actions through")
	}
	byTarget := alice.get("/console/audit?target_type=pat&target_id=carol-acme-pat")
	wantBody(t, "by target", byTarget, "carol-acme-pat")
	if strings.Contains(byTarget.body, "signin.success") {
		t.Errorf("the target filter let other targets through")
	}
	window := alice.get("/console/audit?" + url.Values{"since": {time.Unix(base+3, 0).UTC().Format("2006-01-02T15:04:05")},
		"until": {fmt.Sprint(base + 3)}}.Encode())
	wantBody(t, "time window", window, "app.update")
	if strings.Contains(window.body, "carol-acme-pat") {
		t.Errorf("the time filter let older events through")
	}
	wantStatus(t, "bad time", alice.get("/console/audit?since=yesterday"), http.StatusBadRequest)
	wantStatus(t, "bad cursor", alice.get("/console/audit?before=nope"), http.StatusBadRequest)
	wantBody(t, "zh-CN", alice.get("/console/audit?lang=zh-CN"), "审计日志", "应用筛选")

	carolB := e.browser()
	carolB.loginAs("carol")
	cp := carolB.get("/console/audit")
	wantBody(t, "carol's page", cp, "carol-acme-pat", "carol-personal-pat", "the sign-ins to your account.")
	for _, no := range []string{"bob-other-sat", "onerror"} {
		if strings.Contains(cp.body, no) {
			t.Errorf("carol (a Member) sees %q", no)
		}
	}

	// Pagination: 60 more events of alice's, 50 a page, the cursor link
	// carries the filters.
	for i := range 60 {
		add(e.user.ID, "pat.update", "pat", fmt.Sprintf("page-pat-%02d", i), "", "{}", base+10+int64(i))
	}
	first := alice.get("/console/audit?action=pat.update")
	if n := strings.Count(first.body, "page-pat-"); n != 50 {
		t.Errorf("first page rows = %d, want 50", n)
	}
	m := regexp.MustCompile(`href="(/console/audit\?[^"]+)" rel="next"`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatalf("no next link on the first page")
	}
	next := alice.get(strings.ReplaceAll(m[1], "&amp;", "&"))
	if n := strings.Count(next.body, "page-pat-"); n != 10 || !strings.Contains(next.body, "page-pat-00") || strings.Contains(next.body, `rel="next"`) {
		t.Errorf("second page: %d rows, want the 10 oldest and no next link", n)
	}
	if strings.Contains(next.body, "page-pat-59") {
		t.Errorf("the second page repeats the first")
	}
}

// TestAuditConsentAndRevoke: approving a consent, changing it and revoking the
// app on the Authorized apps page each write one event by the user.
func TestAuditConsentAndRevoke(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn()
	approve := func(edit func(url.Values)) {
		t.Helper()
		_, form := b.consentForm(t, e.authorizePath(nil))
		form.Set("action", "authorize")
		form.Set("account", "personal:"+e.user.AccountID)
		if edit != nil {
			edit(form)
		}
		wantStatus(t, "POST consent", b.post("/api/permission/oauth2/authorize_consent", form), http.StatusFound)
	}
	approve(nil)
	approve(func(f url.Values) {
		f.Set("workspaces", "selected")
		f.Set("ws."+f.Get("account"), e.ws.ID)
	})
	gs, err := e.store.ListGrants(t.Context(), store.GrantFilter{AppID: e.app.ID, UserID: e.user.ID})
	if err != nil || len(gs) != 1 {
		t.Fatalf("grants: %v %v", gs, err)
	}
	list := b.get("/console/authorized")
	wantStatus(t, "revoke", b.post("/console/authorized/"+gs[0].ID+"/revoke", url.Values{"csrf_token": {list.hidden().Get("csrf_token")}}),
		http.StatusSeeOther)
	var got []string
	for _, ev := range e.events(store.AuditFilter{TargetType: "app", TargetID: e.app.ID}) {
		got = append(got, ev.Action)
		if ev.ActorID != e.user.ID || ev.ActorType != store.ActorUser || ev.IP != "127.0.0.1" {
			t.Errorf("%s: actor %q/%q ip %q", ev.Action, ev.ActorID, ev.ActorType, ev.IP)
		}
		if ev.Action == "consent.change" && !strings.Contains(ev.Detail, `"narrowed":true`) {
			t.Errorf("consent.change detail = %s, want narrowed", ev.Detail)
		}
	}
	if want := "consent.grant consent.change grant.revoke"; strings.Join(got, " ") != want {
		t.Errorf("events = %v, want %s", got, want)
	}
}
