package server

// Fuzz target of the authorization check body (issue 11.17); see
// internal/oauth/fuzz_test.go for how to run it.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/internal/permission"
)

// FuzzAuthzCheck posts arbitrary bodies to /api/cozeauth/v1/authz/check with
// a full PAT, a narrow one or none: the answer is always the Coze envelope
// with a status that matches its code, never a 5xx; "allowed" needs a known
// permission and, unless it is account-level, a named resource (issue 11.3);
// the narrow PAT is never allowed what it lacks.
func FuzzAuthzCheck(f *testing.F) {
	e := newEnv(f)
	for _, s := range []string{
		`{"permission":"Bot.chat","resource":{"type":"bot","id":"` + e.botWS2 + `"}}`,
		`{"permission":"Bot.chat","resource":{"type":"workspace","id":"` + e.ws1.ID + `"}}`,
		`{"permission":"Workspace.list"}`,
		`{"permission":"Bot.chat"}`,
		`{"permission":"Conversation.create","resource":{"type":"account","id":"` + e.alice.AccountID + `"}}`,
		`{"permission":"Connector.botChat","bot_id":"b","resource":{"type":"bot","id":"b"}}`,
		`{"permission":"Bot.chat","resource":null}`, `{"permission":"Bot.chat","resource":{}}`,
		`{"permission":1}`, `{} {}`, `[]`, ``, `null`, `{"permission":"Bot.chat","resource":{"type":"bot","id":"x"}}trailing`,
	} {
		for tok := uint8(0); tok < 3; tok++ {
			f.Add(tok, s)
		}
	}
	f.Fuzz(func(t *testing.T, tok uint8, body string) {
		auth := [...]string{"Bearer " + e.full, "Bearer " + e.narrow, "Bearer pat_nope"}[int(tok)%3]
		r := e.do(t, http.MethodPost, "/api/cozeauth/v1/authz/check", auth, body)
		want := map[int]int{0: 200, 4000: 400, 4100: 401, 4101: 403, 4200: 404}
		if st, ok := want[r.code]; !ok || st != r.status {
			t.Fatalf("body %q: status %d with code %d (%s)", body, r.status, r.code, r.msg)
		}
		if r.code != 0 {
			if r.msg == "" || r.logid == "" {
				t.Fatalf("error without msg or logid: %+v", r)
			}
			return
		}
		var allowed struct {
			Allowed bool `json:"allowed"`
		}
		if json.Unmarshal(r.data, &allowed) != nil || !allowed.Allowed {
			t.Fatalf("code 0 without allowed=true: %s", r.data)
		}
		if int(tok)%3 == 2 {
			t.Fatalf("an unknown token was allowed: %q", body)
		}
		var req struct {
			Permission string          `json:"permission"`
			Resource   json.RawMessage `json:"resource"`
		}
		if err := json.NewDecoder(strings.NewReader(body)).Decode(&req); err != nil {
			t.Fatalf("allowed an undecodable body %q: %v", body, err)
		}
		perm, ok := permission.Default().Lookup(req.Permission)
		if !ok {
			t.Fatalf("allowed an unknown permission %q", req.Permission)
		}
		if perm.Level != permission.LevelAccount && (len(req.Resource) == 0 || string(req.Resource) == "null") {
			t.Fatalf("allowed %s-level %q without a resource", perm.Level, perm.Name)
		}
		if int(tok)%3 == 1 && perm.Name != "Bot.chat" {
			t.Fatalf("the narrow PAT (Bot.chat only) was allowed %q", perm.Name)
		}
	})
}
