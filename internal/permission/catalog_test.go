package permission

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestDefaultCatalog(t *testing.T) {
	c := Default()
	// The names that existed before the catalog grew keep their names and levels.
	for name, level := range map[string]Level{
		"Workspace.list":           LevelAccount,
		"Bot.chat":                 LevelWorkspace,
		"Bot.getMetadata":          LevelWorkspace,
		"Conversation.create":      LevelAccount,
		"Connector.botChat":        LevelAccount,
		"Enterprise.manageMembers": LevelEnterprise,
		"Token.introspect":         LevelAccount,
		"Resource.manage":          LevelWorkspace,
	} {
		p, ok := c.Lookup(name)
		if !ok {
			t.Fatalf("catalog lacks %s", name)
		}
		if p.Level != level {
			t.Errorf("%s: level %s, want %s", name, p.Level, level)
		}
		if p.Text("zh-CN") == "" || p.Text("en") == "" || p.Text("fr") != p.Text("en") {
			t.Errorf("%s: descriptions %v", name, p.Description)
		}
	}
	if p, _ := c.Lookup("Bot.chat"); p.ResourceType != "bot" || p.Group() != "Bot" {
		t.Errorf("Bot.chat: %+v", p)
	}
	if _, err := c.Validate([]string{"Bot.chat", "Nope.nope"}); err == nil {
		t.Error("Validate accepted an unknown permission")
	}
	got, err := c.Validate([]string{"Bot.chat", "Workspace.list", "Bot.chat"})
	if err != nil || len(got) != 2 || got[0] != "Bot.chat" {
		t.Errorf("Validate = %v, %v", got, err)
	}
}

// TestDefaultGroups: every permission is in exactly one group, the group of
// its name; groups keep the file's order and have both titles.
func TestDefaultGroups(t *testing.T) {
	c := Default()
	seen := map[string]bool{}
	var names []string
	for _, g := range c.Groups() {
		names = append(names, g.Name)
		if g.Text("en") == "" || g.Text("zh-CN") == "" || g.Text("fr") != g.Text("en") {
			t.Errorf("group %s: titles %v", g.Name, g.Title)
		}
		for i, p := range g.Permissions {
			if p.Group() != g.Name {
				t.Errorf("%s listed in group %s", p.Name, g.Name)
			}
			if i > 0 && g.Permissions[i-1].Name >= p.Name {
				t.Errorf("group %s: %s before %s", g.Name, g.Permissions[i-1].Name, p.Name)
			}
			if seen[p.Name] {
				t.Errorf("%s in two groups", p.Name)
			}
			seen[p.Name] = true
		}
	}
	if len(seen) != len(c.All()) {
		t.Errorf("groups hold %d permissions, the catalog %d", len(seen), len(c.All()))
	}
	if got := strings.Join(names, ","); !strings.HasPrefix(got, "Bot,Chat,Conversation,") {
		t.Errorf("group order %s", got)
	}
}

// TestDefaultRoutes mounts every route of the embedded catalog in one
// ServeMux (as the gateway does) and checks which permission answers a few
// requests the SDKs make, and where it finds the resource.
func TestDefaultRoutes(t *testing.T) {
	mux := http.NewServeMux()
	type hit struct {
		perm string
		from string
		typ  string
	}
	var got hit
	n := 0
	for _, p := range Default().All() {
		for _, r := range p.Routes {
			h := hit{p.Name, r.ResourceFrom, r.Type(p)}
			mux.HandleFunc(r.Pattern(), func(http.ResponseWriter, *http.Request) { got = h })
			n++
		}
	}
	if n < 80 {
		t.Errorf("only %d routes", n)
	}
	for _, tc := range []struct {
		method, target string
		want           hit
	}{
		{"POST", "/v3/chat", hit{"Bot.chat", "body:bot_id", "bot"}},
		{"POST", "/v3/chat?conversation_id=1", hit{"Bot.chat", "body:bot_id", "bot"}},
		{"GET", "/v1/chat?bot_id=1", hit{"Bot.chat", "query:bot_id", "bot"}},
		{"GET", "/v3/chat/retrieve?conversation_id=1&chat_id=2", hit{"Chat.getChat", "", "account"}},
		{"POST", "/v3/chat/retrieve?conversation_id=1&chat_id=2", hit{"Chat.getChat", "", "account"}},
		{"GET", "/v3/chat/message/list", hit{"Conversation.listMessage", "", "account"}},
		{"POST", "/v3/chat/cancel", hit{"Chat.cancelChat", "", "account"}},
		{"POST", "/v3/chat/submit_tool_outputs", hit{"Chat.submitToolChat", "", "account"}},
		{"POST", "/v1/conversation/create", hit{"Conversation.create", "", "account"}},
		{"POST", "/v1/conversations/7/clear", hit{"Conversation.editConversation", "", "account"}},
		{"DELETE", "/v1/conversations/7", hit{"Conversation.editConversation", "", "account"}},
		{"GET", "/v1/bots/7", hit{"Bot.getMetadata", "path:bot_id", "bot"}},
		{"GET", "/v1/bots", hit{"Workspace.listBot", "query:workspace_id", "workspace"}},
		{"POST", "/v1/bot/create", hit{"Workspace.createBot", "body:space_id", "workspace"}},
		{"POST", "/v1/workflow/stream_run", hit{"Workflow.run", "body:workflow_id", "workflow"}},
		{"POST", "/v1/workflows/chat", hit{"Workflow.run", "body:workflow_id", "workflow"}},
		{"GET", "/v1/workflows/7", hit{"Workflow.getMetaData", "path:workflow_id", "workflow"}},
		{"GET", "/v1/workflows/7/run_histories/8", hit{"Workflow.listRunHistory", "path:workflow_id", "workflow"}},
		{"POST", "/v1/files/upload", hit{"File.uploadFile", "", "account"}},
		{"POST", "/open_api/knowledge/document/delete", hit{"Knowledge.deleteDocument", "body:document_ids", "document"}},
		{"PUT", "/v1/datasets/7", hit{"Knowledge.update", "path:dataset_id", "dataset"}},
		{"GET", "/v1/datasets", hit{"Workspace.listKnowledge", "query:space_id", "workspace"}},
		{"GET", "/v1/apps/7", hit{"Project.getMetadata", "path:app_id", "app"}},
		{"GET", "/v1/audio/speech", hit{"Audio.createSpeech", "", "account"}},
		{"POST", "/v1/audio/rooms", hit{"Audio.createRoom", "body:bot_id", "bot"}},
		{"DELETE", "/v1/workspaces/7/members", hit{"Workspace.removeMember", "path:workspace_id", "workspace"}},
		{"PUT", "/v1/enterprises/7/members/8", hit{"Enterprise.manageMembers", "path:enterprise_id", "enterprise"}},
		{"GET", "/v1/workspaces", hit{"Workspace.list", "", "account"}},
	} {
		got = hit{}
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(tc.method, tc.target, nil))
		if got != tc.want {
			t.Errorf("%s %s: %+v, want %+v", tc.method, tc.target, got, tc.want)
		}
	}
	// A route the catalog does not list reaches no permission.
	got = hit{}
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PATCH", "/v3/chat", nil))
	if got != (hit{}) {
		t.Errorf("PATCH /v3/chat reached %+v", got)
	}
}

// catalogOf wraps permission JSON objects in a catalog with groups A and B.
func catalogOf(perms ...string) string {
	return `{"groups":[{"name":"A","title":{"en":"A","zh-CN":"甲"}},{"name":"B","title":{"en":"B","zh-CN":"乙"}}],` +
		`"permissions":[` + strings.Join(perms, ",") + `]}`
}

// perm is an account-level permission with valid descriptions and the given routes.
func perm(name, routes string) string {
	return `{"name":"` + name + `","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"},"routes":[` + routes + `]}`
}

// wsPerm is a workspace-level permission on bots with the given routes.
func wsPerm(name, routes string) string {
	return `{"name":"` + name + `","level":"workspace","resource_type":"bot","description":{"en":"x","zh-CN":"y"},"routes":[` + routes + `]}`
}

func TestParseCatalog(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want string // substring of the error; "" = accepted
	}{
		{"minimal", catalogOf(perm("A.b", ""), perm("B.c", "")), ""},
		{"routes of every kind", catalogOf(
			perm("A.b", `{"method":"GET","path":"/v1/a"},{"method":"POST","path":"/v1/a/{id}","resource_from":"path:id"}`),
			wsPerm("B.c", `{"method":"POST","path":"/v1/b","resource_from":"body:bot_id"},{"method":"GET","path":"/v1/b","resource_from":"query:bot_id"},`+
				`{"method":"PUT","path":"/v1/b","resource_from":"form:bot_id"},{"method":"DELETE","path":"/v1/b/{rest...}","resource_from":"path:rest"},`+
				`{"method":"PATCH","path":"/v1/b/{id}/x","resource_from":"body:doc_ids","resource_type":"document"}`)), ""},
		{"same path, other method", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a"}`), perm("B.c", `{"method":"POST","path":"/v1/a"}`)), ""},
		{"more specific pattern", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a/{id}"}`), perm("B.c", `{"method":"GET","path":"/v1/a/chat"}`)), ""},

		{"bad json", `{`, "unexpected EOF"},
		{"unknown field", catalogOf(`{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x","zh-CN":"y"},"extra":1}`), "unknown field"},
		{"unknown top-level field", `{"permission":[]}`, "unknown field"},
		{"no dot", catalogOf(perm("Ab", "")), "Group.action"},
		{"two dots", catalogOf(perm("A.b.c", "")), "Group.action"},
		{"empty action", catalogOf(perm("A.", "")), "Group.action"},
		{"group not listed", catalogOf(perm("C.d", "")), `group "C" is not in the groups list`},
		{"group without zh-CN title", `{"groups":[{"name":"A","title":{"en":"A"}}],"permissions":[` + perm("A.b", "") + `]}`, "titles"},
		{"group twice", `{"groups":[{"name":"A","title":{"en":"A","zh-CN":"甲"}},{"name":"A","title":{"en":"A","zh-CN":"甲"}}],"permissions":[]}`, "listed twice"},
		{"group name with a dot", `{"groups":[{"name":"A.x","title":{"en":"A","zh-CN":"甲"}}],"permissions":[]}`, "without dots"},
		{"empty group", catalogOf(perm("A.b", "")), `group "B" has no permissions`},
		{"bad level", catalogOf(`{"name":"A.b","level":"galaxy","resource_type":"account","description":{"en":"x","zh-CN":"y"}}`), "unknown level"},
		{"duplicate", catalogOf(perm("A.b", ""), perm("A.b", "")), "listed twice"},
		{"no zh", catalogOf(`{"name":"A.b","level":"account","resource_type":"account","description":{"en":"x"}}`), "descriptions"},
		{"no resource type", catalogOf(`{"name":"A.b","level":"workspace","description":{"en":"x","zh-CN":"y"}}`), "no resource_type"},
		{"account on bots", catalogOf(`{"name":"A.b","level":"account","resource_type":"bot","description":{"en":"x","zh-CN":"y"}}`), "acts on \"account\""},
		{"enterprise on bots", catalogOf(`{"name":"A.b","level":"enterprise","resource_type":"bot","description":{"en":"x","zh-CN":"y"}}`), "acts on \"enterprise\""},
		{"relative path", catalogOf(perm("A.b", `{"method":"GET","path":"v1"}`)), "must start with /"},
		{"query in path", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a?x=1"}`)), "must start with /"},
		{"lower-case method", catalogOf(perm("A.b", `{"method":"get","path":"/v1/a"}`)), "method"},
		{"no method", catalogOf(perm("A.b", `{"path":"/v1/a"}`)), "method"},
		{"bad wildcard", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/{a"}`)), "route \"GET /v1/{a\""},
		{"wildcard twice", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/{a}/{a}","resource_from":"path:a"}`)), "route \"GET /v1/{a}/{a}\""},
		{"same route twice", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a"}`), perm("B.c", `{"method":"GET","path":"/v1/a"}`)), "is already A.b's"},
		{"conflicting routes", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/{x}/a"}`), perm("B.c", `{"method":"GET","path":"/v1/b/{y}"}`)), "conflicts"},
		{"resource_from without a name", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a","resource_from":"query:"}`)), "WHERE:NAME"},
		{"resource_from without a place", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a","resource_from":"bot_id"}`)), "WHERE:NAME"},
		{"resource_from in a header", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a","resource_from":"header:x"}`)), "path, query, body or form"},
		{"path resource not in the path", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a/{id}","resource_from":"path:bot_id"}`)), "names no wildcard"},
		{"workspace route without a resource", catalogOf(perm("A.b", ""), wsPerm("B.c", `{"method":"GET","path":"/v1/b"}`)), "needs resource_from"},
		{"own-account route on bots", catalogOf(perm("A.b", `{"method":"GET","path":"/v1/a","resource_type":"bot"}`)), "acts on an account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalog([]byte(tc.src))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want == "" && len(c.Groups()) == 0:
				t.Fatal("no groups")
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want one with %q", err, tc.want)
			}
		})
	}
}

// TestDocsListEveryPermission keeps docs/permissions.md in step with the
// catalog: its figures and a table row for every permission.
func TestDocsListEveryPermission(t *testing.T) {
	b, err := os.ReadFile("../../docs/permissions.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	c := Default()
	routes := 0
	for _, p := range c.All() {
		routes += len(p.Routes)
		if !strings.Contains(doc, "| `"+p.Name+"` | "+string(p.Level)+" |") {
			t.Errorf("docs/permissions.md has no row for %s (%s)", p.Name, p.Level)
		}
	}
	for _, g := range c.Groups() {
		if !strings.Contains(doc, "(`"+g.Name+"`)") {
			t.Errorf("docs/permissions.md has no section for group %s", g.Name)
		}
	}
	want := fmt.Sprintf("**%d permissions in %d groups, guarding %d OpenAPI routes**", len(c.All()), len(c.Groups()), routes)
	if !strings.Contains(doc, want) {
		t.Errorf("docs/permissions.md does not say %q", want)
	}
}

func TestResourceTypes(t *testing.T) {
	got := Default().ResourceTypes()
	if !slices.IsSorted(got) {
		t.Errorf("ResourceTypes = %v, not sorted", got)
	}
	for _, want := range []string{"bot", "workflow"} {
		if !slices.Contains(got, want) {
			t.Errorf("ResourceTypes = %v, lacks %s", got, want)
		}
	}
	for _, not := range []string{"account", "enterprise", "workspace"} {
		if slices.Contains(got, not) {
			t.Errorf("ResourceTypes = %v, has %s, which is not a resource in a workspace", got, not)
		}
	}
}
