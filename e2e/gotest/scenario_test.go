package gotest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// world is the scenario's data, made with the admin CLI:
//
//	alice: personal workspaces wsA1 (botA1), wsA2 (botA2), wsA3 (no bot)
//	bob:   personal workspace wsB (botB)
//	enterprise ent (SuperAdmin boss; alice Member): wsE1 (botE1, alice a member), wsE2 (botE2, alice not a member)
type world struct {
	adm
	alice, bob, boss, ent             string
	wsA1, wsA2, wsA3, wsB, wsE1, wsE2 string
	botA1, botA2, botB, botE1, botE2  string

	patAll    token // alice, personal, all workspaces
	patSel    token // alice, personal, selected: wsA1
	patEnt    token // alice, in ent, all workspaces
	patNoList token // alice, personal, all workspaces, Bot.chat only
	patBob    token // bob, personal, all workspaces
	patDel    token // alice, to be deleted
	sat       token // ent, all workspaces
}

func buildWorld(t *testing.T, dsn string) *world {
	t.Helper()
	start := time.Now()
	w := &world{adm: adm{t: t, db: dsn}}
	a := w.adm
	w.alice, w.bob, w.boss = a.user("alice"), a.user("bob"), a.user("boss")

	w.ent = a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	a.changed("enterprise", "add-member", "--enterprise", w.ent, "--user", "alice", "--role", "Member")

	// --owner takes a username or a user ID.
	w.wsA1 = a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	w.wsA2 = a.str("workspace_id", "workspace", "create", "--name", "Beta", "--owner", w.alice)
	w.wsA3 = a.str("workspace_id", "workspace", "create", "--name", "Gamma", "--owner", "alice")
	w.wsB = a.str("workspace_id", "workspace", "create", "--name", "Bob's", "--owner", "bob")
	w.wsE1 = a.str("workspace_id", "workspace", "create", "--name", "Acme One", "--enterprise", w.ent)
	w.wsE2 = a.str("workspace_id", "workspace", "create", "--name", "Acme Two", "--enterprise", w.ent)
	a.changed("workspace", "add-member", "--workspace", w.wsE1, "--user", "alice", "--role", "member")

	w.botA1 = a.str("resource_id", "resource", "create", "--workspace", w.wsA1, "--type", "bot", "--id", "7400000000000000001")
	if w.botA1 != "7400000000000000001" {
		t.Fatalf("resource create --id 7400000000000000001 returned resource_id %q", w.botA1)
	}
	w.botA2 = a.str("resource_id", "resource", "create", "--workspace", w.wsA2, "--type", "bot") // generated ID
	w.botB = a.str("resource_id", "resource", "create", "--workspace", w.wsB, "--type", "bot", "--id", "bot-b")
	w.botE1 = a.str("resource_id", "resource", "create", "--workspace", w.wsE1, "--type", "bot", "--id", "bot-e1")
	w.botE2 = a.str("resource_id", "resource", "create", "--workspace", w.wsE2, "--type", "bot", "--id", "bot-e2")

	chatList := []string{"--permission", "Bot.chat", "--permission", "Workspace.list"}
	w.patAll = a.createToken("pat", append([]string{"--user", "alice", "--name", "all", "--days", "30", "--workspaces", "all"}, chatList...)...)
	w.patSel = a.createToken("pat", append([]string{"--user", "alice", "--name", "selected", "--days", "1", "--workspaces", w.wsA1}, chatList...)...)
	w.patEnt = a.createToken("pat", append([]string{"--user", w.alice, "--name", "enterprise", "--permanent", "--workspaces", "all", "--enterprise", w.ent}, chatList...)...)
	w.patNoList = a.createToken("pat", "--user", "alice", "--name", "no list", "--days", "90", "--workspaces", "all", "--permission", "Bot.chat")
	w.patBob = a.createToken("pat", append([]string{"--user", "bob", "--name", "bob", "--days", "365", "--workspaces", "all"}, chatList...)...)
	w.patDel = a.createToken("pat", append([]string{"--user", "alice", "--name", "doomed", "--days", "180", "--workspaces", "all"}, chatList...)...)
	w.sat = a.createToken("sat", append([]string{"--enterprise", w.ent, "--name", "service", "--permanent", "--workspaces", "all"}, chatList...)...)
	if w.patEnt.ExpireAt != -1 || w.sat.ExpireAt != -1 {
		t.Errorf("permanent tokens must report expire_at -1, got pat %d, sat %d", w.patEnt.ExpireAt, w.sat.ExpireAt)
	}
	if d := w.patAll.ExpireAt - time.Now().Unix(); d < 30*86400-60 || d > 30*86400+60 {
		t.Errorf("--days 30 gave expire_at %d, %ds from now", w.patAll.ExpireAt, d)
	}
	t.Logf("world built with the admin CLI in %v", time.Since(start).Round(time.Millisecond))
	return w
}

// TestScenario runs the decision rule end to end: tokens made by the CLI,
// decisions asked over HTTP, revocations through the CLI while the server
// runs.
func TestScenario(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runScenario(t, b.newDB(t))
		})
	}
}

func runScenario(t *testing.T, dsn string) {
	w := buildWorld(t, dsn)
	srv := startServer(t, "server", dsn)
	c := srv.C
	ctx := ctxT(t)

	// A token that expires in an hour; a second server whose clock runs two
	// hours ahead sees it expired, so no test waits for the wall clock (or
	// breaks when the admin CLI is slow).
	expAt := time.Now().Unix() + 3600
	patExp := w.createToken("pat", "--user", "alice", "--name", "short-lived", "--expires-at", strconv.FormatInt(expAt, 10),
		"--workspaces", "all", "--permission", "Bot.chat")
	if patExp.ExpireAt != expAt {
		t.Errorf("--expires-at %d gave expire_at %d", expAt, patExp.ExpireAt)
	}
	if ok, err := c.CheckAuthz(ctx, patExp.Token, "Bot.chat", &client.Resource{Type: "bot", ID: w.botA1}); !ok || err != nil {
		t.Errorf("short-lived PAT before its expiry: allowed=%v err=%v", ok, err)
	}

	t.Run("users me", func(t *testing.T) {
		tests := []struct {
			name, token, wantID, wantName string
		}{
			{"personal PAT", w.patAll.Token, w.alice, "alice"},
			{"enterprise PAT", w.patEnt.Token, w.alice, "alice"},
			{"PAT without permissions of its own", w.patNoList.Token, w.alice, "alice"},
			{"another user's PAT", w.patBob.Token, w.bob, "bob"},
		}
		for _, tt := range tests {
			u, err := c.UsersMe(ctx, tt.token)
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if u.UserID != tt.wantID || u.UserName != tt.wantName || u.NickName == "" {
				t.Errorf("%s: got %+v, want user_id %s, user_name %s and a nick_name", tt.name, u, tt.wantID, tt.wantName)
			}
		}
		u, err := c.UsersMe(ctx, w.sat.Token)
		if err != nil || u.UserID == "" {
			t.Errorf("SAT: users/me = %+v, %v; want the service identity", u, err)
		}
	})

	t.Run("decisions", func(t *testing.T) {
		bot := func(id string) *client.Resource { return &client.Resource{Type: "bot", ID: id} }
		tests := []struct {
			name       string
			token      string
			permission string
			resource   *client.Resource
			want       int // 0 = allowed
		}{
			{"personal PAT, all workspaces: bot in the user's workspace", w.patAll.Token, "Bot.chat", bot(w.botA1), 0},
			{"personal PAT, all workspaces: bot in the user's other workspace", w.patAll.Token, "Bot.chat", bot(w.botA2), 0},
			{"personal PAT, all workspaces: enterprise workspace the user is a member of", w.patAll.Token, "Bot.chat", bot(w.botE1), 4101},
			{"personal PAT, all workspaces: another user's workspace", w.patAll.Token, "Bot.chat", bot(w.botB), 4101},
			{"personal PAT: permission it lacks", w.patAll.Token, "Bot.getMetadata", bot(w.botA1), 4101},
			{"personal PAT: a workspace-level permission needs a resource", w.patAll.Token, "Bot.chat", nil, 4000},
			{"personal PAT: an account-level permission it has, no resource", w.patAll.Token, "Workspace.list", nil, 0},
			{"selected workspaces: listed workspace", w.patSel.Token, "Bot.chat", bot(w.botA1), 0},
			{"selected workspaces: workspace not listed", w.patSel.Token, "Bot.chat", bot(w.botA2), 4101},
			{"enterprise PAT: enterprise workspace the user is a member of", w.patEnt.Token, "Bot.chat", bot(w.botE1), 0},
			{"enterprise PAT: the user's personal workspace", w.patEnt.Token, "Bot.chat", bot(w.botA1), 4101},
			{"enterprise PAT: enterprise workspace the user is not a member of", w.patEnt.Token, "Bot.chat", bot(w.botE2), 4101},
			{"SAT: enterprise workspace", w.sat.Token, "Bot.chat", bot(w.botE1), 0},
			{"SAT: another enterprise workspace (no person, no membership)", w.sat.Token, "Bot.chat", bot(w.botE2), 0},
			{"SAT: a personal workspace", w.sat.Token, "Bot.chat", bot(w.botA1), 4101},
			{"other user's PAT: their own bot", w.patBob.Token, "Bot.chat", bot(w.botB), 0},
			{"other user's PAT: alice's bot", w.patBob.Token, "Bot.chat", bot(w.botA1), 4101},
			{"PAT without Workspace.list asks for it", w.patNoList.Token, "Workspace.list", nil, 4101},
			{"unknown permission", w.patAll.Token, "Bot.fly", bot(w.botA1), 4000},
			{"empty permission", w.patAll.Token, "", bot(w.botA1), 4000},
			{"resource of the wrong type", w.patAll.Token, "Bot.chat", &client.Resource{Type: "workflow", ID: w.botA1}, 4000},
			{"unknown bot", w.patAll.Token, "Bot.chat", bot("7499999999999999999"), 4200},
			{"unknown bot, even for a token that reaches no workspace", w.patSel.Token, "Bot.chat", bot("no-such-bot"), 4200},
			{"unknown PAT", "pat_" + fmt.Sprintf("%064x", 1), "Bot.chat", bot(w.botA1), 4100},
			{"malformed token", "not-a-token", "Bot.chat", bot(w.botA1), 4100},
			{"SAT token presented with a pat_ prefix", "pat_" + w.sat.Token[len("sat_"):], "Bot.chat", bot(w.botE1), 4100},
		}
		for _, tt := range tests {
			allowed, err := c.CheckAuthz(ctx, tt.token, tt.permission, tt.resource)
			got := codeOf(err)
			if got != tt.want || (tt.want == 0) != allowed {
				t.Errorf("%s: allowed=%v code=%d (err %v), want code %d", tt.name, allowed, got, err, tt.want)
				continue
			}
			if err != nil {
				checkAPIError(t, tt.name, err)
			}
		}
	})

	t.Run("listing", func(t *testing.T) { checkListing(t, w, c) })

	t.Run("pat update takes effect", func(t *testing.T) {
		w.json(nil, "pat", "update", "--id", w.patSel.ID, "--workspaces", w.wsA1+","+w.wsA2)
		d, ok := eventually(revocationBound, func() bool {
			allowed, err := c.CheckAuthz(ctx, w.patSel.Token, "Bot.chat", &client.Resource{Type: "bot", ID: w.botA2})
			return allowed && err == nil
		})
		if !ok {
			t.Errorf("after pat update --workspaces %s,%s the PAT still does not reach botA2 after %v", w.wsA1, w.wsA2, d)
		}
		w.json(nil, "pat", "update", "--id", w.patSel.ID, "--permission", "Workspace.list")
		d, ok = eventually(revocationBound, func() bool {
			_, err := c.CheckAuthz(ctx, w.patSel.Token, "Bot.chat", &client.Resource{Type: "bot", ID: w.botA1})
			return codeOf(err) == 4101
		})
		if !ok {
			t.Errorf("after pat update dropping Bot.chat, Bot.chat is not 4101 within %v", d)
		}
		l, found := find(w.pats("alice"), w.patSel.ID)
		if !found || !slices.Equal(l.Permissions, []string{"Workspace.list"}) || !slices.Equal(l.WorkspaceIDs, sorted(w.wsA1, w.wsA2)) {
			t.Errorf("pat list after update: %+v", l)
		}
	})

	t.Run("workspace remove-member revokes within 1s", func(t *testing.T) {
		bot := &client.Resource{Type: "bot", ID: w.botE1}
		if ok, err := c.CheckAuthz(ctx, w.patEnt.Token, "Bot.chat", bot); !ok || err != nil {
			t.Fatalf("before removal: allowed=%v err=%v", ok, err)
		}
		w.changed("workspace", "remove-member", "--workspace", w.wsE1, "--user", "alice")
		d, ok := eventually(revocationBound, func() bool {
			_, err := c.CheckAuthz(ctx, w.patEnt.Token, "Bot.chat", bot)
			return codeOf(err) == 4101
		})
		t.Logf("remove-member → 4101 after %v", d.Round(time.Millisecond))
		if !ok {
			t.Errorf("after workspace remove-member the member's PAT is not 4101 on that workspace within %v", revocationBound)
		}
		// The SAT acts for no person, so a membership change does not touch it.
		if ok, err := c.CheckAuthz(ctx, w.sat.Token, "Bot.chat", bot); !ok || err != nil {
			t.Errorf("SAT after alice's removal: allowed=%v err=%v", ok, err)
		}
		p, err := c.ListWorkspaces(ctx, w.patEnt.Token, client.ListWorkspacesRequest{})
		if err != nil || p.TotalCount != 0 || len(p.Workspaces) != 0 {
			t.Errorf("enterprise PAT listing after removal = %+v, %v; want empty", p, err)
		}
	})

	t.Run("deleted PAT is 4100 within 1s", func(t *testing.T) {
		if _, err := c.UsersMe(ctx, w.patDel.Token); err != nil {
			t.Fatalf("before delete: %v", err)
		}
		w.changed("pat", "delete", "--id", w.patDel.ID)
		d, ok := eventually(revocationBound, func() bool {
			_, err := c.UsersMe(ctx, w.patDel.Token)
			return client.IsUnauthenticated(err)
		})
		t.Logf("pat delete → 4100 after %v", d.Round(time.Millisecond))
		if !ok {
			t.Errorf("deleted PAT still accepted after %v", revocationBound)
		}
		if _, found := find(w.pats("alice"), w.patDel.ID); found {
			t.Errorf("pat list still shows the deleted PAT")
		}
	})

	t.Run("sat list and delete", func(t *testing.T) {
		var out struct {
			Items []listing `json:"service_access_tokens"`
		}
		w.json(&out, "sat", "list", "--enterprise", w.ent)
		if _, found := find(out.Items, w.sat.ID); !found || len(out.Items) != 1 {
			t.Fatalf("sat list = %+v, want the one SAT", out.Items)
		}
		if l, _ := find(out.Items, w.sat.ID); l.ExpireAt != -1 || l.WorkspaceMode != "all" {
			t.Errorf("sat list item = %+v, want expire_at -1 and workspace_option all", l)
		}
		w.changed("sat", "delete", "--id", w.sat.ID)
		if _, ok := eventually(revocationBound, func() bool {
			_, err := c.CheckAuthz(ctx, w.sat.Token, "Bot.chat", &client.Resource{Type: "bot", ID: w.botE1})
			return codeOf(err) == 4100
		}); !ok {
			t.Errorf("deleted SAT still accepted after %v", revocationBound)
		}
	})

	t.Run("expired token is 4100", func(t *testing.T) {
		later := startServer(t, "server two hours later", dsn, "--testing-clock-offset", "2h")
		_, err := later.C.CheckAuthz(ctx, patExp.Token, "Bot.chat", &client.Resource{Type: "bot", ID: w.botA1})
		if codeOf(err) != 4100 {
			t.Errorf("PAT with expire_at %d, two hours later: %v, want 4100", expAt, err)
		}
		if _, err := later.C.UsersMe(ctx, patExp.Token); !client.IsUnauthenticated(err) {
			t.Errorf("expired PAT on users/me: %v, want 4100", err)
		}
		if ok, err := c.CheckAuthz(ctx, patExp.Token, "Bot.chat", &client.Resource{Type: "bot", ID: w.botA1}); !ok || err != nil {
			t.Errorf("the same PAT now, before its expiry: allowed=%v err=%v", ok, err)
		}
	})
}

// checkAPIError checks what every OpenAPI error must carry (WIRE.md §7):
// the HTTP status matched to the code, a message and a log ID.
func checkAPIError(t *testing.T, what string, err error) {
	t.Helper()
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("%s: %v is not an *APIError", what, err)
		return
	}
	want := map[int]int{4000: 400, 4100: 401, 4101: 403, 4200: 404}[apiErr.Code]
	if apiErr.HTTPStatus != want || apiErr.Msg == "" || apiErr.LogID == "" {
		t.Errorf("%s: %+v, want HTTP %d, a msg and a log ID", what, *apiErr, want)
	}
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// checkListing covers GET /v1/workspaces: only reachable workspaces, exact
// total_count, paging, an empty page past the end.
func checkListing(t *testing.T, w *world, c *client.Client) {
	ctx := ctxT(t)
	type want struct {
		ids      []string
		wsType   string
		ent      string
		roleType string
	}
	personal := want{ids: sorted(w.wsA1, w.wsA2, w.wsA3), wsType: "personal", roleType: "owner"}
	tests := []struct {
		name  string
		token string
		req   client.ListWorkspacesRequest
		want  want
	}{
		{"personal PAT, all workspaces", w.patAll.Token, client.ListWorkspacesRequest{}, personal},
		{"personal PAT, selected workspaces", w.patSel.Token, client.ListWorkspacesRequest{}, want{ids: []string{w.wsA1}, wsType: "personal", roleType: "owner"}},
		{"enterprise PAT: member workspaces of the enterprise only", w.patEnt.Token, client.ListWorkspacesRequest{}, want{ids: []string{w.wsE1}, wsType: "team", ent: w.ent, roleType: "member"}},
		{"enterprise PAT, enterprise_id filter", w.patEnt.Token, client.ListWorkspacesRequest{EnterpriseID: w.ent}, want{ids: []string{w.wsE1}, wsType: "team", ent: w.ent, roleType: "member"}},
		{"enterprise PAT, other enterprise_id", w.patEnt.Token, client.ListWorkspacesRequest{EnterpriseID: "7000000000000000000"}, want{ids: []string{}}},
		{"SAT: every enterprise workspace", w.sat.Token, client.ListWorkspacesRequest{}, want{ids: sorted(w.wsE1, w.wsE2), wsType: "team", ent: w.ent}},
		{"bob", w.patBob.Token, client.ListWorkspacesRequest{PageSize: 50}, want{ids: []string{w.wsB}, wsType: "personal", roleType: "owner"}},
	}
	for _, tt := range tests {
		p, err := c.ListWorkspaces(ctx, tt.token, tt.req)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var ids []string
		for _, ws := range p.Workspaces {
			ids = append(ids, ws.ID)
			if ws.WorkspaceType != tt.want.wsType || ws.EnterpriseID != tt.want.ent || ws.Name == "" ||
				(tt.want.roleType != "" && ws.RoleType != tt.want.roleType) || ws.RoleType == "" {
				t.Errorf("%s: workspace %+v, want workspace_type %q, enterprise_id %q, role_type %q", tt.name, ws, tt.want.wsType, tt.want.ent, tt.want.roleType)
			}
		}
		slices.Sort(ids)
		if p.TotalCount != len(tt.want.ids) || !slices.Equal(ids, tt.want.ids) && !(len(ids) == 0 && len(tt.want.ids) == 0) {
			t.Errorf("%s: total_count %d, workspaces %v; want %d: %v", tt.name, p.TotalCount, ids, len(tt.want.ids), tt.want.ids)
		}
	}

	// Paging through alice's three personal workspaces two at a time.
	pages := []struct {
		num, wantLen int
	}{{1, 2}, {2, 1}, {3, 0}, {100, 0}}
	var all []string
	for _, pg := range pages {
		p, err := c.ListWorkspaces(ctx, w.patAll.Token, client.ListWorkspacesRequest{PageNum: pg.num, PageSize: 2})
		if err != nil {
			t.Errorf("page %d: %v", pg.num, err)
			continue
		}
		if p.TotalCount != 3 || len(p.Workspaces) != pg.wantLen {
			t.Errorf("page %d of size 2: total_count %d, %d workspaces; want 3 and %d", pg.num, p.TotalCount, len(p.Workspaces), pg.wantLen)
		}
		for _, ws := range p.Workspaces {
			all = append(all, ws.ID)
		}
	}
	slices.Sort(all)
	if !slices.Equal(all, personal.ids) {
		t.Errorf("pages 1..3 of size 2 gave %v, want each of %v once", all, personal.ids)
	}
	// The client's iterator pages the way the Go SDK does (until a short page).
	var iterated []string
	for ws, err := range c.Workspaces(ctx, w.patAll.Token, client.ListWorkspacesRequest{PageSize: 1}) {
		if err != nil {
			t.Fatalf("iterating: %v", err)
		}
		iterated = append(iterated, ws.ID)
	}
	slices.Sort(iterated)
	if !slices.Equal(iterated, personal.ids) {
		t.Errorf("iterating with page_size 1 gave %v, want %v", iterated, personal.ids)
	}

	// Workspace.list missing → 4101.
	_, err := c.ListWorkspaces(ctx, w.patNoList.Token, client.ListWorkspacesRequest{})
	if codeOf(err) != 4101 {
		t.Errorf("ListWorkspaces without Workspace.list: %v, want 4101", err)
	} else {
		checkAPIError(t, "ListWorkspaces without Workspace.list", err)
	}
}
