package storetest

import (
	"context"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// testAuditFilters covers the filters of the audit log, its pagination
// cursor and the visibility rule of the console.
func testAuditFilters(t *testing.T, f *fixture) {
	ev := func(actor, action, targetType, targetID, ent string, at int64) store.AuditEvent {
		return store.AuditEvent{ID: store.NewAuditID(), At: at, ActorID: actor, ActorType: store.ActorUser, Action: action,
			TargetType: targetType, TargetID: targetID, EnterpriseID: ent, IP: "192.0.2.1", LogID: "log-" + action, Detail: "{}"}
	}
	at := f.tick()
	a := ev("u1", "pat.create", "pat", "p1", "", at)
	b := ev("u1", "pat.delete", "pat", "p1", "", at) // same second: the ID orders them
	c := ev("u2", "app.create", "app", "a1", "e1", f.tick())
	d := ev("", "signin.failure", "user", "u1", "", f.tick())
	d.ActorType = store.ActorSystem
	e := ev("u3", "sat.create", "sat", "s1", "e2", f.tick())
	e.ActorType, e.ActorID = store.ActorCLI, ""
	for _, x := range []store.AuditEvent{a, b, c, d, e} {
		checkErr(t, "AppendAudit", f.s.AppendAudit(f.ctx, x), nil)
	}
	for _, tc := range []struct {
		name   string
		filter store.AuditFilter
		want   []store.AuditEvent
	}{
		{"all, newest first, ties by ID", store.AuditFilter{}, []store.AuditEvent{e, d, c, b, a}},
		{"by actor", store.AuditFilter{ActorID: "u1"}, []store.AuditEvent{b, a}},
		{"by action prefix", store.AuditFilter{Action: "pat."}, []store.AuditEvent{b, a}},
		{"a prefix is not a pattern", store.AuditFilter{Action: "pat_%."}, nil},
		{"exact action", store.AuditFilter{Action: "pat.create"}, []store.AuditEvent{a}},
		{"since", store.AuditFilter{Since: c.At}, []store.AuditEvent{e, d, c}},
		{"until", store.AuditFilter{Until: c.At}, []store.AuditEvent{c, b, a}},
		{"time range", store.AuditFilter{Since: c.At, Until: d.At}, []store.AuditEvent{d, c}},
		{"page 2 after the cursor", store.AuditFilter{Before: c.ID, Limit: 1}, []store.AuditEvent{b}},
		{"cursor within one second", store.AuditFilter{Before: b.ID}, []store.AuditEvent{a}},
		{"visible to u1: own and about u1", store.AuditFilter{Visible: &store.AuditVisibility{UserID: "u1"}}, []store.AuditEvent{d, b, a}},
		{"visible to an admin of e1", store.AuditFilter{Visible: &store.AuditVisibility{UserID: "u9", EnterpriseIDs: []string{"e1"}}}, []store.AuditEvent{c}},
		{"visible to an admin of e1 and e2", store.AuditFilter{Visible: &store.AuditVisibility{UserID: "u9", EnterpriseIDs: []string{"e1", "e2"}}}, []store.AuditEvent{e, c}},
		{"visible to nobody in particular", store.AuditFilter{Visible: &store.AuditVisibility{UserID: "u9"}}, nil},
	} {
		got, err := f.s.ListAudit(f.ctx, tc.filter)
		checkErr(t, tc.name, err, nil)
		checkList(t, tc.name, got, tc.want)
	}
	_, err := f.s.ListAudit(f.ctx, store.AuditFilter{Before: "no-such-event"})
	checkErr(t, "unknown cursor", err, store.ErrInvalid)
}

// testAuditInTx checks that an event attached with store.WithAudit is
// written by the change's own transaction: once when it commits, never when
// it fails.
func testAuditInTx(t *testing.T, f *fixture) {
	count := func(action string) int {
		t.Helper()
		es, err := f.s.ListAudit(f.ctx, store.AuditFilter{Action: action})
		checkErr(t, "ListAudit", err, nil)
		return len(es)
	}
	actx := store.WithActor(f.ctx, store.Actor{ID: "u1", Type: store.ActorUser, IP: "198.51.100.7", LogID: "L1"})
	with := func(action, targetType, targetID string) (context.Context, store.AuditEvent) {
		e := store.NewAuditEvent(actx, f.tick(), action, targetType, targetID, "", map[string]any{"k": "v"})
		return store.WithAudit(actx, e), e
	}

	// A committed change (inTx path) writes its event, with the actor.
	u := f.newUser("audited")
	ctx, want := with("user.create", "user", u.ID)
	checkErr(t, "CreateUser", f.s.CreateUser(ctx, u), nil)
	got, err := f.s.ListAudit(f.ctx, store.AuditFilter{Action: "user.create"})
	checkErr(t, "ListAudit", err, nil)
	checkList(t, "user.create", got, []store.AuditEvent{want})
	if !store.PendingAuditFrom(ctx).Written() {
		t.Errorf("the pending event is not marked written after the commit")
	}
	// Later writes with the same context do not repeat it.
	checkErr(t, "a second write", f.s.CreateUser(ctx, f.newUser("audited2")), nil)
	if n := count("user.create"); n != 1 {
		t.Errorf("user.create events after two writes with one context = %d, want 1", n)
	}

	// A failing change writes no event, and the event can still go with a
	// later successful write.
	ctx, _ = with("user.create.dup", "user", u.ID)
	checkErr(t, "duplicate user", f.s.CreateUser(ctx, u), store.ErrAlreadyExists)
	if n := count("user.create.dup"); n != 0 {
		t.Errorf("a failed change wrote %d audit events", n)
	}
	// An update refused by its callback writes none either.
	w := f.credentialWorld()
	pat := f.credential(store.Credential{UserID: w.alice.ID, Owner: w.alice.Account()})
	ctx, _ = with("pat.update", "pat", pat.ID)
	_, err = f.s.UpdateCredential(ctx, pat.ID, func(c store.Credential) (store.Credential, error) {
		return c, store.ErrInvalid
	})
	checkErr(t, "refused update", err, store.ErrInvalid)
	if n := count("pat.update"); n != 0 {
		t.Errorf("a refused update wrote %d audit events", n)
	}

	// Single-statement writes (no explicit transaction) carry it too.
	app := f.app(w.alice.Account(), w.alice.ID, store.ClientWebBackend)
	ctx, _ = with("app.secret.create", "app", app.ID)
	sec := store.AppSecret{ID: store.NewID(), AppID: app.ID, Hash: "h-" + store.NewID(), Hint: "abcd", CreatedAt: f.tick()}
	checkErr(t, "AddAppSecret", f.s.AddAppSecret(ctx, sec), nil)
	if n := count("app.secret.create"); n != 1 {
		t.Errorf("app.secret.create events = %d, want 1", n)
	}
	ctx, _ = with("app.secret.create.dup", "app", app.ID)
	checkErr(t, "duplicate secret", f.s.AddAppSecret(ctx, sec), store.ErrAlreadyExists)
	if n := count("app.secret.create.dup"); n != 0 {
		t.Errorf("a failed single-statement write wrote %d audit events", n)
	}

	// A broken event fails the change with it: nothing half-recorded.
	bad := store.NewAuditEvent(actx, f.tick(), "user.create", "user", "", "", nil) // no target
	checkErr(t, "change with a broken event", f.s.CreateUser(store.WithAudit(f.ctx, bad), f.newUser("never")), store.ErrInvalid)
	if _, err := f.s.GetUserByUsername(f.ctx, "never"); err == nil {
		t.Errorf("the change committed although its audit event was refused")
	}
}
