package gateway

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/internal/permission"
)

const testCatalog = `{"groups":[
 {"name":"Bot","title":{"en":"a","zh-CN":"a"}},{"name":"File","title":{"en":"a","zh-CN":"a"}},{"name":"Doc","title":{"en":"a","zh-CN":"a"}}],
 "permissions":[
 {"name":"Bot.chat","level":"workspace","resource_type":"bot","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"POST","path":"/v3/chat","resource_from":"body:bot_id"},
   {"method":"GET","path":"/v1/chat","resource_from":"query:bot_id"}]},
 {"name":"Bot.getMetadata","level":"workspace","resource_type":"bot","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"GET","path":"/v1/bots/{bot_id}","resource_from":"path:bot_id"}]},
 {"name":"Bot.listVersion","level":"workspace","resource_type":"bot","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"GET","path":"/v1/bots/{bot_id}/versions","resource_from":"path:bot_id"}]},
 {"name":"Bot.special","level":"workspace","resource_type":"bot","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"GET","path":"/v1/bots/special","resource_from":"query:bot_id"}]},
 {"name":"File.get","level":"account","resource_type":"account","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"GET","path":"/v1/files/{rest...}"}]},
 {"name":"File.upload","level":"account","resource_type":"account","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"POST","path":"/v1/files/upload","resource_from":"form:bot_id","resource_type":"bot"}]},
 {"name":"Doc.delete","level":"workspace","resource_type":"document","description":{"en":"a","zh-CN":"a"},"routes":[
   {"method":"POST","path":"/open_api/doc/delete","resource_from":"body:document_ids"}]}
]}`

func testRoutes(t *testing.T) *Routes {
	t.Helper()
	c, err := permission.ParseCatalog([]byte(testCatalog))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := CompileRoutes(c)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestDefaultCatalogCompiles(t *testing.T) {
	rs, err := CompileRoutes(permission.Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range permission.Default().All() {
		for _, r := range p.Routes {
			path := strings.NewReplacer("{", "", "}", "").Replace(r.Path) // wildcards become sample values
			m, ok := rs.Lookup(r.Method, path)
			if !ok {
				t.Errorf("%s %s: no match", r.Method, path)
				continue
			}
			if m.Route.Path != r.Path && !strings.Contains(m.Route.Path, "{") {
				t.Errorf("%s %s matched %s", r.Method, path, m.Route.Path)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	rs := testRoutes(t)
	tests := []struct {
		name, method, path string
		wantPerm           string
		wantPathID         string
	}{
		{"body route", "POST", "/v3/chat", "Bot.chat", ""},
		{"wrong method", "GET", "/v3/chat", "", ""},
		{"path wildcard", "GET", "/v1/bots/b1", "Bot.getMetadata", "b1"},
		{"literal beats wildcard", "GET", "/v1/bots/special", "Bot.special", ""},
		{"longer pattern", "GET", "/v1/bots/b1/versions", "Bot.listVersion", "b1"},
		{"empty segment is no match", "GET", "/v1/bots/", "", ""},
		{"too long", "GET", "/v1/bots/b1/versions/x", "", ""},
		{"HEAD matches GET", "HEAD", "/v1/bots/b2", "Bot.getMetadata", "b2"},
		{"trailing wildcard", "GET", "/v1/files/a/b", "File.get", ""},
		{"exact before trailing wildcard", "POST", "/v1/files/upload", "File.upload", ""},
		{"unlisted", "GET", "/v1/nothing", "", ""},
		{"relative path", "GET", "v1/bots/b1", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := rs.Lookup(tc.method, tc.path)
			if tc.wantPerm == "" {
				if ok {
					t.Fatalf("matched %s %s", m.Perm.Name, m.Route.Path)
				}
				return
			}
			if !ok || m.Perm.Name != tc.wantPerm {
				t.Fatalf("Lookup = %v, %v; want %s", m, ok, tc.wantPerm)
			}
			if got := m.PathResource(tc.path); got != tc.wantPathID {
				t.Errorf("PathResource = %q, want %q", got, tc.wantPathID)
			}
		})
	}
}

// The catalog parser refuses these too; the matcher does not rely on it.
func TestCompileRejects(t *testing.T) {
	p := &permission.Permission{Name: "A.b"}
	for name, r := range map[string]permission.Route{
		"unknown path var": {Method: "GET", Path: "/a/{x}", ResourceFrom: "path:y"},
		"partial wildcard": {Method: "GET", Path: "/a/b{x}"},
		"multi not last":   {Method: "GET", Path: "/a/{x...}/b"},
		"lower method":     {Method: "get", Path: "/a"},
		"empty segment":    {Method: "GET", Path: "/a//b"},
		"twice":            {Method: "GET", Path: "/a/{x}/{x}"},
	} {
		if _, err := compile(p, &r); err == nil {
			t.Errorf("%s: compile accepted %s %s", name, r.Method, r.Path)
		}
	}
}

func multipartBody(t *testing.T, fieldFirst bool, fileSize int) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	field := func() { _ = mw.WriteField("bot_id", "b-form") }
	if fieldFirst {
		field()
	}
	fw, _ := mw.CreateFormFile("file", "f.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), fileSize))
	if !fieldFirst {
		field()
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func TestResourceID(t *testing.T) {
	rs := testRoutes(t)
	ctFirst, bodyFirst := multipartBody(t, true, 3<<20)
	ctLate, bodyLate := multipartBody(t, false, 2<<20)
	ctSmall, bodySmall := multipartBody(t, false, 100)
	tests := []struct {
		name, method, path, ct, body string
		wantID                       string
		wantStatus                   int // 0: no error
	}{
		{"json string", "POST", "/v3/chat", "application/json", `{"stream":true,"bot_id":"b1","x":[1,{"bot_id":"nested"}]}`, "b1", 0},
		{"json number", "POST", "/v3/chat", "application/json", `{"bot_id":7350000000000000001}`, "7350000000000000001", 0},
		{"json no content type", "POST", "/v3/chat", "", `{"bot_id":"b1"}`, "b1", 0},
		{"json key case", "POST", "/v3/chat", "application/json", `{"Bot_Id":"b1"}`, "b1", 0},
		{"json escaped key", "POST", "/v3/chat", "application/json", `{"bot\u005fid":"b\u0031"}`, "b1", 0},
		{"json tricky strings", "POST", "/v3/chat", "application/json", `{"x":"}{\"bot_id\":1","y":[{"a":"]"}],"bot_id" : "b1" }`, "b1", 0},
		{"json null", "POST", "/v3/chat", "application/json", `{"bot_id":null}`, "", 400},
		{"json bool", "POST", "/v3/chat", "application/json", `{"bot_id":true}`, "", 400},
		{"json empty object", "POST", "/v3/chat", "application/json", `{}`, "", 400},
		{"json duplicate", "POST", "/v3/chat", "application/json", `{"bot_id":"b1","BOT_ID":"b2"}`, "", 400},
		{"json missing", "POST", "/v3/chat", "application/json", `{"x":1}`, "", 400},
		{"json object value", "POST", "/v3/chat", "application/json", `{"bot_id":{"a":1}}`, "", 400},
		{"json not object", "POST", "/v3/chat", "application/json", `["bot_id"]`, "", 400},
		{"json trailing garbage", "POST", "/v3/chat", "application/json", `{"bot_id":"b1"`, "", 400},
		{"json wrong type", "POST", "/v3/chat", "text/plain", `{"bot_id":"b1"}`, "", 400},
		{"json list", "POST", "/open_api/doc/delete", "application/json", `{"document_ids":["d1",2]}`, "d1" + idSep + "2", 0},
		{"json list of objects", "POST", "/open_api/doc/delete", "application/json", `{"document_ids":[{}]}`, "", 400},
		{"query", "GET", "/v1/chat?bot_id=q1&bot_id=q2", "", "", "q1", 0},
		{"query missing", "GET", "/v1/chat", "", "", "", 400},
		{"path", "GET", "/v1/bots/p1", "", "", "p1", 0},
		{"multipart field first, big file", "POST", "/v1/files/upload", ctFirst, string(bodyFirst), "b-form", 0},
		{"multipart field after a big file", "POST", "/v1/files/upload", ctLate, string(bodyLate), "", 400},
		{"multipart field after a small file", "POST", "/v1/files/upload", ctSmall, string(bodySmall), "b-form", 0},
		{"urlencoded", "POST", "/v1/files/upload", "application/x-www-form-urlencoded", "a=1&bot_id=u1", "u1", 0},
		{"no form", "POST", "/v1/files/upload", "application/json", `{}`, "", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.ct != "" {
				r.Header.Set("Content-Type", tc.ct)
			}
			m, ok := rs.Lookup(r.Method, r.URL.Path)
			if !ok {
				t.Fatal("no route")
			}
			id, e := resourceID(r, m)
			if tc.wantStatus != 0 {
				if e == nil || e.Status != tc.wantStatus {
					t.Fatalf("resourceID = %q, %v; want HTTP %d", id, e, tc.wantStatus)
				}
				return
			}
			if e != nil || id != tc.wantID {
				t.Fatalf("resourceID = %q, %v; want %q", id, e, tc.wantID)
			}
			// Whatever was read is replayed: the upstream gets the body whole.
			got, err := io.ReadAll(r.Body)
			if err != nil || string(got) != tc.body {
				t.Errorf("replayed body differs (%d bytes, want %d): %v", len(got), len(tc.body), err)
			}
		})
	}
}

func TestJSONBodyLimit(t *testing.T) {
	rs := testRoutes(t)
	body := `{"bot_id":"b1","pad":"` + strings.Repeat("x", 100) + `"}`
	r := httptest.NewRequest("POST", "/v3/chat", strings.NewReader(body))
	w := httptest.NewRecorder()
	r.Body = http.MaxBytesReader(w, r.Body, 50)
	m, _ := rs.Lookup("POST", "/v3/chat")
	if _, e := resourceID(r, m); e == nil || e.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the body limit: %v, want 413", e)
	}
}

func TestSealer(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := s.Seal("u1", "pat_secret")
	if err != nil || strings.Contains(sealed, "pat_secret") {
		t.Fatalf("Seal = %q, %v", sealed, err)
	}
	if got, err := s.Open("u1", sealed); err != nil || got != "pat_secret" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("u2", sealed); err == nil {
		t.Error("a token sealed for u1 opened for u2")
	}
	other, _ := NewSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open("u1", sealed); err == nil {
		t.Error("a token opened with another key")
	}
	if _, err := s.Open("u1", "v1:@@@"); err == nil {
		t.Error("garbage opened")
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Error("a short key was accepted")
	}
}

func TestParseLookup(t *testing.T) {
	l, err := ParseLookup("bot=/v1/bots/{id}#data.space_id")
	if err != nil || l.Type != "bot" || l.Path != "/v1/bots/{id}" || strings.Join(l.Field, ".") != "data.space_id" {
		t.Fatalf("ParseLookup = %+v, %v", l, err)
	}
	for _, bad := range []string{"bot", "bot=/v1/bots#data", "bot=/v1/bots/{id}", "=/x/{id}#a", "workspace=/x/{id}#a", "bot=v1/{id}#a"} {
		if _, err := ParseLookup(bad); err == nil {
			t.Errorf("ParseLookup(%q) accepted", bad)
		}
	}
}
