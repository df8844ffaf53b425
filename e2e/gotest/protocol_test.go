package gotest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/client"
)

// TestProtocol checks the transport rules of WIRE.md §1, §2 and §7 on raw
// requests, and malformed input through the client.
func TestProtocol(t *testing.T) {
	t.Parallel()
	dsn := sqliteDB(t)
	a := adm{t: t, db: dsn}
	a.user("alice")
	ws := a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	bot := a.str("resource_id", "resource", "create", "--workspace", ws, "--type", "bot", "--id", "bot-1")
	pat := a.createToken("pat", "--user", "alice", "--name", "p", "--days", "1", "--workspaces", "all",
		"--permission", "Bot.chat", "--permission", "Workspace.list").Token
	narrow := a.createToken("pat", "--user", "alice", "--name", "narrow", "--days", "1", "--workspaces", "all").Token
	srv := startServer(t, "server", dsn)
	ctx := ctxT(t)
	checkBody := `{"permission":"Bot.chat","resource":{"type":"bot","id":"` + bot + `"}}`

	t.Run("raw requests", func(t *testing.T) {
		tests := []struct {
			name       string
			method     string
			path       string
			auth       string
			body       string
			wantStatus int
			wantCode   int // -1: not an envelope (health endpoints)
		}{
			{"users/me", "GET", "/v1/users/me", "Bearer " + pat, "", 200, 0},
			{"lowercase bearer scheme", "GET", "/v1/users/me", "bearer " + pat, "", 200, 0},
			{"uppercase BEARER scheme", "GET", "/v1/users/me", "BEARER " + pat, "", 200, 0},
			{"double slash from a base URL with a trailing slash", "GET", "//v1/users/me", "Bearer " + pat, "", 200, 0},
			{"double slashes inside the path", "GET", "//v1//workspaces", "Bearer " + pat, "", 200, 0},
			{"workspaces", "GET", "/v1/workspaces?page_num=1&page_size=20", "Bearer " + pat, "", 200, 0},
			{"authz check", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + pat, checkBody, 200, 0},
			{"Basic auth", "GET", "/v1/users/me", "Basic YWxpY2U6cGFzc3dvcmQ=", "", 401, 4100},
			{"no Authorization", "GET", "/v1/users/me", "", "", 401, 4100},
			{"empty bearer", "GET", "/v1/users/me", "Bearer ", "", 401, 4100},
			{"token without scheme", "GET", "/v1/users/me", pat, "", 401, 4100},
			{"unknown token", "GET", "/v1/workspaces", "Bearer pat_0123", "", 401, 4100},
			{"denied", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + narrow, checkBody, 403, 4101},
			{"unknown resource", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + pat, `{"permission":"Bot.chat","resource":{"type":"bot","id":"nope"}}`, 404, 4200},
			{"body not JSON", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + pat, `permission=Bot.chat`, 400, 4000},
			{"JSON followed by more", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + pat, checkBody + `{}`, 400, 4000},
			{"empty body", "POST", "/api/cozeauth/v1/authz/check", "Bearer " + pat, "", 400, 4000},
			{"OpenAPI route not in the permission catalog", "GET", "/v1/no/such/route", "Bearer " + pat, "", 403, 4101},
			{"unknown path", "GET", "/no/such/route", "Bearer " + pat, "", 404, 4200},
			{"healthz", "GET", "/healthz", "", "", 200, -1},
			{"readyz", "GET", "/readyz", "", "", 200, -1},
		}
		for _, tt := range tests {
			r := raw(t, tt.method, srv.URL+tt.path, tt.auth, tt.body)
			logID := r.header.Get("X-Tt-Logid")
			if r.status != tt.wantStatus || logID == "" || !strings.Contains(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("%s: %s %s → HTTP %d, X-Tt-Logid %q, Content-Type %q; want HTTP %d, a log ID, JSON\nbody: %s",
					tt.name, tt.method, tt.path, r.status, logID, r.header.Get("Content-Type"), tt.wantStatus, r.body)
				continue
			}
			if tt.wantCode == -1 {
				continue
			}
			e := r.env
			switch {
			case r.jsonErr != nil || e.Code == nil:
				t.Errorf("%s: body is not a Coze envelope (%v): %s", tt.name, r.jsonErr, r.body)
			case *e.Code != tt.wantCode:
				t.Errorf("%s: code %d, want %d: %s", tt.name, *e.Code, tt.wantCode, r.body)
			case e.Detail.LogID != logID:
				t.Errorf("%s: detail.logid %q differs from X-Tt-Logid %q", tt.name, e.Detail.LogID, logID)
			case tt.wantCode == 0 && (e.Msg != "" || len(e.Data) == 0 || string(e.Data) == "null"):
				t.Errorf("%s: success envelope needs msg \"\" and data: %s", tt.name, r.body)
			case tt.wantCode != 0 && (e.Msg == "" || len(e.Data) != 0):
				t.Errorf("%s: error envelope needs a msg and no data: %s", tt.name, r.body)
			}
		}
	})

	t.Run("users/me fields are all strings", func(t *testing.T) {
		r := raw(t, "GET", srv.URL+"/v1/users/me", "Bearer "+pat, "")
		var data map[string]any
		if err := json.Unmarshal(r.env.Data, &data); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"user_id", "user_name", "nick_name", "avatar_url"} {
			if _, ok := data[k].(string); !ok {
				t.Errorf("data.%s = %#v, want a string (never null): %s", k, data[k], r.body)
			}
		}
	})

	t.Run("bad input through the client", func(t *testing.T) {
		big := `{"permission":"Bot.chat","pad":"` + strings.Repeat("x", 70<<10) + `"}`
		tests := []struct {
			name string
			req  client.Request
			want int
		}{
			{"oversize body (>64KiB)", client.Request{Method: "POST", Path: "/api/cozeauth/v1/authz/check", Body: json.RawMessage(big)}, 4000},
			{"page_size=0", list(url.Values{"page_size": {"0"}}), 4000},
			{"page_size=-1", list(url.Values{"page_size": {"-1"}}), 4000},
			{"page_size=abc", list(url.Values{"page_size": {"abc"}}), 4000},
			{"page_size=51", list(url.Values{"page_size": {"51"}}), 4000},
			{"page_num=0", list(url.Values{"page_num": {"0"}}), 4000},
			{"page_num=x", list(url.Values{"page_num": {"x"}}), 4000},
			{"page_size=50", list(url.Values{"page_size": {"50"}}), 0},
			{"resource without id", client.Request{Method: "POST", Path: "/api/cozeauth/v1/authz/check",
				Body: map[string]any{"permission": "Bot.chat", "resource": map[string]string{"type": "bot"}}}, 4000},
			{"permission of the wrong JSON type", client.Request{Method: "POST", Path: "/api/cozeauth/v1/authz/check",
				Body: map[string]any{"permission": 7}}, 4000},
		}
		for _, tt := range tests {
			tt.req.Token = pat
			err := srv.C.Do(ctx, tt.req, nil)
			if got := codeOf(err); got != tt.want {
				t.Errorf("%s: code %d (%v), want %d", tt.name, got, err, tt.want)
			} else if err != nil {
				checkAPIError(t, tt.name, err)
			}
		}
		// The client reports each failure with its own predicate.
		_, err := srv.C.ListWorkspaces(ctx, pat, client.ListWorkspacesRequest{PageSize: -1})
		if !client.IsBadRequest(err) || client.IsForbidden(err) {
			t.Errorf("ListWorkspaces(page_size -1) = %v, want only IsBadRequest", err)
		}
	})

	t.Run("client against a base URL with a trailing slash", func(t *testing.T) {
		c := client.New(srv.URL+"/", client.WithHTTPClient(httpc))
		if _, err := c.UsersMe(ctx, pat); err != nil {
			t.Error(err)
		}
	})

	t.Run("wrong method is a Coze error envelope", func(t *testing.T) {
		r := raw(t, http.MethodDelete, srv.URL+"/v1/users/me", "Bearer "+pat, "")
		if r.status < 400 || r.header.Get("X-Tt-Logid") == "" {
			t.Errorf("DELETE /v1/users/me → HTTP %d, X-Tt-Logid %q", r.status, r.header.Get("X-Tt-Logid"))
		}
		if r.jsonErr != nil || r.env.Code == nil || *r.env.Code == 0 || r.env.Msg == "" {
			t.Errorf("DELETE /v1/users/me: want a Coze error envelope, got HTTP %d, Content-Type %q: %s",
				r.status, r.header.Get("Content-Type"), r.body)
		}
	})
}

func list(q url.Values) client.Request {
	return client.Request{Method: "GET", Path: "/v1/workspaces", Query: q}
}
