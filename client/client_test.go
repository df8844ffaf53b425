package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const token = "pat_test"

// seen is what a test server observed of one request.
type seen struct {
	method, path, rawQuery, auth, contentType string
	body                                      string
}

// serve starts a server that records the request and answers with status,
// the given headers and body.
func serve(t *testing.T, status int, header map[string]string, body string) (*httptest.Server, *seen) {
	t.Helper()
	var s seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s = seen{method: r.Method, path: r.URL.Path, rawQuery: r.URL.RawQuery, auth: r.Header.Get("Authorization"),
			contentType: r.Header.Get("Content-Type"), body: string(b)}
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &s
}

var jsonCT = map[string]string{"Content-Type": "application/json; charset=utf-8", "X-Tt-Logid": "L1"}

func ok(data string) string {
	return `{"code":0,"msg":"","data":` + data + `,"detail":{"logid":"L1"}}`
}

func TestCalls(t *testing.T) {
	tests := []struct {
		name      string
		trailing  bool // base URL given with a trailing slash
		data      string
		call      func(c *Client) (any, error)
		want      any
		wantReq   seen
		wantQuery url.Values
	}{
		{
			name:    "users me",
			data:    `{"user_id":"u1","user_name":"alice","nick_name":"Alice","avatar_url":"https://a/x.png"}`,
			call:    func(c *Client) (any, error) { return c.UsersMe(context.Background(), token) },
			want:    &User{UserID: "u1", UserName: "alice", NickName: "Alice", AvatarURL: "https://a/x.png"},
			wantReq: seen{method: "GET", path: "/v1/users/me", auth: "Bearer pat_test"},
		},
		{
			name:     "users me with trailing slash in base URL",
			trailing: true,
			data:     `{"user_id":"u1","user_name":"alice","nick_name":"","avatar_url":""}`,
			call:     func(c *Client) (any, error) { return c.UsersMe(context.Background(), token) },
			want:     &User{UserID: "u1", UserName: "alice"},
			wantReq:  seen{method: "GET", path: "/v1/users/me", auth: "Bearer pat_test"},
		},
		{
			name: "list workspaces with defaults sends no paging",
			data: `{"total_count":1,"workspaces":[{"id":"w1","name":"W","icon_url":"","role_type":"owner","workspace_type":"personal","enterprise_id":""}]}`,
			call: func(c *Client) (any, error) {
				return c.ListWorkspaces(context.Background(), token, ListWorkspacesRequest{})
			},
			want:      &WorkspacePage{TotalCount: 1, Workspaces: []Workspace{{ID: "w1", Name: "W", RoleType: "owner", WorkspaceType: "personal"}}},
			wantReq:   seen{method: "GET", path: "/v1/workspaces", auth: "Bearer pat_test"},
			wantQuery: url.Values{},
		},
		{
			name: "list workspaces with paging and enterprise",
			data: `{"total_count":7,"workspaces":[]}`,
			call: func(c *Client) (any, error) {
				return c.ListWorkspaces(context.Background(), token, ListWorkspacesRequest{PageNum: 3, PageSize: 5, EnterpriseID: "e1"})
			},
			want:      &WorkspacePage{TotalCount: 7, Workspaces: []Workspace{}},
			wantReq:   seen{method: "GET", path: "/v1/workspaces", auth: "Bearer pat_test"},
			wantQuery: url.Values{"page_num": {"3"}, "page_size": {"5"}, "enterprise_id": {"e1"}},
		},
		{
			name: "list workspaces: null list becomes empty",
			data: `{"total_count":0,"workspaces":null}`,
			call: func(c *Client) (any, error) {
				return c.ListWorkspaces(context.Background(), token, ListWorkspacesRequest{PageSize: -1})
			},
			want:      &WorkspacePage{Workspaces: []Workspace{}},
			wantReq:   seen{method: "GET", path: "/v1/workspaces", auth: "Bearer pat_test"},
			wantQuery: url.Values{"page_size": {"-1"}},
		},
		{
			name: "check with resource",
			data: `{"allowed":true}`,
			call: func(c *Client) (any, error) {
				return c.CheckAuthz(context.Background(), token, "Bot.chat", &Resource{Type: "bot", ID: "b1"})
			},
			want: true,
			wantReq: seen{method: "POST", path: "/api/cozeauth/v1/authz/check", auth: "Bearer pat_test",
				contentType: "application/json; charset=utf-8",
				body:        `{"permission":"Bot.chat","resource":{"type":"bot","id":"b1"}}`},
		},
		{
			name: "check without resource",
			data: `{"allowed":true}`,
			call: func(c *Client) (any, error) {
				return c.CheckAuthz(context.Background(), token, "Workspace.list", nil)
			},
			want: true,
			wantReq: seen{method: "POST", path: "/api/cozeauth/v1/authz/check", auth: "Bearer pat_test",
				contentType: "application/json; charset=utf-8", body: `{"permission":"Workspace.list"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := serve(t, http.StatusOK, jsonCT, ok(tt.data))
			base := srv.URL
			if tt.trailing {
				base += "/"
			}
			res, err := tt.call(New(base))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if !reflect.DeepEqual(res, tt.want) {
				t.Errorf("result = %#v, want %#v", res, tt.want)
			}
			gotQuery := got.rawQuery
			got.rawQuery = ""
			if *got != tt.wantReq {
				t.Errorf("request = %+v, want %+v", *got, tt.wantReq)
			}
			if tt.wantQuery != nil {
				q, _ := url.ParseQuery(gotQuery)
				if !reflect.DeepEqual(q, tt.wantQuery) {
					t.Errorf("query = %v, want %v", q, tt.wantQuery)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	type pred struct {
		name string
		f    func(error) bool
	}
	preds := []pred{{"IsBadRequest", IsBadRequest}, {"IsUnauthenticated", IsUnauthenticated},
		{"IsForbidden", IsForbidden}, {"IsNotFound", IsNotFound}, {"IsRateLimited", IsRateLimited}}
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    APIError
		msgHas  string // Msg contains this (when want.Msg is empty)
		is      string // the one predicate that must hold ("" for none)
		isCode  Code   // errors.Is(err, isCode) must hold (0: skip)
		errText string // Error() contains this
	}{
		{
			name:   "4100 with matched status",
			status: 401, header: jsonCT,
			body: `{"code":4100,"msg":"token expired","detail":{"logid":"BODY"}}`,
			want: APIError{HTTPStatus: 401, Code: 4100, Msg: "token expired", LogID: "L1"},
			is:   "IsUnauthenticated", isCode: CodeUnauthenticated, errText: "code 4100: token expired",
		},
		{
			name:   "4101",
			status: 403, header: jsonCT,
			body: `{"code":4101,"msg":"credential does not reach workspace w","detail":{"logid":"L1"}}`,
			want: APIError{HTTPStatus: 403, Code: 4101, Msg: "credential does not reach workspace w", LogID: "L1"},
			is:   "IsForbidden", isCode: CodeForbidden,
		},
		{
			name:   "4200",
			status: 404, header: jsonCT,
			body: `{"code":4200,"msg":"bot x not found"}`,
			want: APIError{HTTPStatus: 404, Code: 4200, Msg: "bot x not found", LogID: "L1"},
			is:   "IsNotFound",
		},
		{
			name:   "4000",
			status: 400, header: jsonCT,
			body: `{"code":4000,"msg":"unknown permission"}`,
			want: APIError{HTTPStatus: 400, Code: 4000, Msg: "unknown permission", LogID: "L1"},
			is:   "IsBadRequest", isCode: CodeBadRequest,
		},
		{
			name:   "code on HTTP 200 (coze-studio style) still an error",
			status: 200, header: jsonCT,
			body: `{"code":4013,"msg":"slow down"}`,
			want: APIError{HTTPStatus: 200, Code: 4013, Msg: "slow down", LogID: "L1"},
			is:   "IsRateLimited",
		},
		{
			name:   "code wins over a mismatched status",
			status: 400, header: jsonCT,
			body: `{"code":4100,"msg":"bad token"}`,
			want: APIError{HTTPStatus: 400, Code: 4100, Msg: "bad token", LogID: "L1"},
			is:   "IsUnauthenticated",
		},
		{
			name:   "log ID from detail.logid without header",
			status: 401, header: map[string]string{"Content-Type": "application/json"},
			body: `{"code":4100,"msg":"m","detail":{"logid":"BODY"}}`,
			want: APIError{HTTPStatus: 401, Code: 4100, Msg: "m", LogID: "BODY"},
			is:   "IsUnauthenticated", errText: "logid BODY",
		},
		{
			name:   "non-zero code without msg",
			status: 403, header: jsonCT,
			body: `{"code":4101}`,
			want: APIError{HTTPStatus: 403, Code: 4101, Msg: "(no message)", LogID: "L1"},
			is:   "IsForbidden",
		},
		{
			name:   "HTTP error with JSON but no code",
			status: 404, header: jsonCT,
			body: `{"error":"nope"}`,
			want: APIError{HTTPStatus: 404, Msg: "Not Found", LogID: "L1"},
			is:   "IsNotFound", errText: "HTTP 404",
		},
		{
			name:   "non-JSON error page",
			status: 502, header: map[string]string{"Content-Type": "text/html"},
			body:   `<html>bad gateway</html>`,
			want:   APIError{HTTPStatus: 502},
			msgHas: `not JSON (Content-Type "text/html")`, errText: "HTTP 502",
		},
		{
			name:   "non-JSON 401 is classified by status",
			status: 401, header: map[string]string{"Content-Type": "text/plain"},
			body:   "unauthorized",
			want:   APIError{HTTPStatus: 401},
			msgHas: `"unauthorized"`, is: "IsUnauthenticated",
		},
		{
			name:   "non-JSON 200",
			status: 200, header: map[string]string{"Content-Type": "text/plain"},
			body:   "hello",
			want:   APIError{HTTPStatus: 200},
			msgHas: "not JSON", errText: "HTTP 200",
		},
		{
			name:   "empty body",
			status: 500, header: map[string]string{"Content-Type": "text/plain"},
			want:   APIError{HTTPStatus: 500},
			msgHas: "(empty body)",
		},
		{
			name:   "invalid JSON with JSON content type",
			status: 200, header: jsonCT,
			body:   `{"code":0,`,
			want:   APIError{HTTPStatus: 200, LogID: "L1"},
			msgHas: "not a JSON object",
		},
		{
			name:   "success without data",
			status: 200, header: jsonCT,
			body:   `{"code":0,"msg":""}`,
			want:   APIError{HTTPStatus: 200, LogID: "L1"},
			msgHas: "no data",
		},
		{
			name:   "success with null data",
			status: 200, header: jsonCT,
			body:   `{"code":0,"msg":"","data":null}`,
			want:   APIError{HTTPStatus: 200, LogID: "L1"},
			msgHas: "no data",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, tt.status, tt.header, tt.body)
			_, err := New(srv.URL).UsersMe(context.Background(), token)
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v (%T), want *APIError", err, err)
			}
			got := *ae
			if tt.want.Msg == "" {
				if !strings.Contains(got.Msg, tt.msgHas) {
					t.Errorf("Msg = %q, want it to contain %q", got.Msg, tt.msgHas)
				}
				got.Msg = ""
			}
			if got != tt.want {
				t.Errorf("APIError = %+v, want %+v", got, tt.want)
			}
			for _, p := range preds {
				if want := p.name == tt.is; p.f(err) != want {
					t.Errorf("%s(err) = %v, want %v", p.name, !want, want)
				}
			}
			if tt.isCode != 0 && !errors.Is(err, tt.isCode) {
				t.Errorf("errors.Is(err, %v) = false", tt.isCode)
			}
			if tt.errText != "" && !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("Error() = %q, want it to contain %q", err.Error(), tt.errText)
			}
		})
	}
}

func TestCheckAuthzDenied(t *testing.T) {
	srv, _ := serve(t, http.StatusForbidden, jsonCT, `{"code":4101,"msg":"credential lacks permission Bot.chat"}`)
	allowed, err := New(srv.URL).CheckAuthz(context.Background(), token, "Bot.chat", &Resource{Type: "bot", ID: "b"})
	if allowed || !IsForbidden(err) {
		t.Fatalf("CheckAuthz = %v, %v; want false and a 4101 error", allowed, err)
	}
	wrapped := fmt.Errorf("calling cozeauth: %w", err)
	if !errors.Is(wrapped, CodeForbidden) || errors.Is(wrapped, CodeUnauthenticated) {
		t.Errorf("errors.Is through wrapping does not see the code")
	}
	var ae *APIError
	if !errors.As(wrapped, &ae) || ae.Code != 4101 || ae.LogID != "L1" {
		t.Errorf("errors.As = %+v", ae)
	}
}

func TestWorkspacesIterator(t *testing.T) {
	const total = 7
	tests := []struct {
		name      string
		pageSize  int
		stopAfter int // stop consuming after this many (0: consume all)
		wantCalls int
		wantIDs   int
	}{
		{name: "pages of 3", pageSize: 3, wantCalls: 3, wantIDs: 7},
		{name: "exact multiple stops on total_count", pageSize: 7, wantCalls: 1, wantIDs: 7},
		{name: "default page size", wantCalls: 1, wantIDs: 7},
		{name: "early stop fetches no more", pageSize: 2, stopAfter: 3, wantCalls: 2, wantIDs: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				num, _ := strconv.Atoi(r.URL.Query().Get("page_num"))
				size, _ := strconv.Atoi(r.URL.Query().Get("page_size"))
				p := WorkspacePage{TotalCount: total, Workspaces: []Workspace{}}
				for i := (num - 1) * size; i < min(num*size, total); i++ {
					p.Workspaces = append(p.Workspaces, Workspace{ID: "w" + strconv.Itoa(i)})
				}
				b, _ := json.Marshal(p)
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, ok(string(b)))
			}))
			defer srv.Close()
			var ids []string
			for ws, err := range New(srv.URL).Workspaces(context.Background(), token, ListWorkspacesRequest{PageSize: tt.pageSize}) {
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, ws.ID)
				if len(ids) == tt.stopAfter {
					break
				}
			}
			if len(ids) != tt.wantIDs || int(calls.Load()) != tt.wantCalls {
				t.Errorf("got %d workspaces in %d calls, want %d in %d", len(ids), calls.Load(), tt.wantIDs, tt.wantCalls)
			}
			for i, id := range ids {
				if id != "w"+strconv.Itoa(i) {
					t.Errorf("workspace %d = %s", i, id)
				}
			}
		})
	}
}

func TestWorkspacesIteratorError(t *testing.T) {
	srv, _ := serve(t, http.StatusForbidden, jsonCT, `{"code":4101,"msg":"credential lacks permission Workspace.list"}`)
	n := 0
	for _, err := range New(srv.URL).Workspaces(context.Background(), token, ListWorkspacesRequest{}) {
		n++
		if !IsForbidden(err) {
			t.Errorf("err = %v, want 4101", err)
		}
	}
	if n != 1 {
		t.Errorf("yielded %d times, want 1", n)
	}
}

type countingTransport struct {
	n  atomic.Int32
	ua atomic.Value
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	c.ua.Store(r.Header.Get("User-Agent"))
	return http.DefaultTransport.RoundTrip(r)
}

func TestOptions(t *testing.T) {
	srv, _ := serve(t, http.StatusOK, jsonCT, ok(`{"user_id":"u"}`))
	ct := &countingTransport{}
	c := New(srv.URL+"/", WithHTTPClient(&http.Client{Transport: ct}), WithUserAgent("tester/1"), WithHTTPClient(nil))
	if c.BaseURL() != srv.URL {
		t.Errorf("BaseURL = %q, want %q", c.BaseURL(), srv.URL)
	}
	if _, err := c.UsersMe(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if ct.n.Load() != 1 || ct.ua.Load() != "tester/1" {
		t.Errorf("transport saw %d requests with User-Agent %v", ct.n.Load(), ct.ua.Load())
	}
}

func TestNoTokenSendsNoAuthorization(t *testing.T) {
	srv, got := serve(t, http.StatusUnauthorized, jsonCT, `{"code":4100,"msg":"missing"}`)
	_, err := New(srv.URL).UsersMe(context.Background(), "")
	if !IsUnauthenticated(err) || got.auth != "" {
		t.Errorf("err = %v, Authorization = %q", err, got.auth)
	}
}

func TestBasePathPrefix(t *testing.T) {
	srv, got := serve(t, http.StatusOK, jsonCT, ok(`{"user_id":"u"}`))
	if _, err := New(srv.URL+"/coze/").UsersMe(context.Background(), token); err != nil {
		t.Fatal(err)
	}
	if got.path != "/coze/v1/users/me" {
		t.Errorf("path = %q", got.path)
	}
}

func TestContextAndTransportErrors(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := New(srv.URL).UsersMe(ctx, token)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Errorf("a transport error must not be an *APIError: %v", err)
	}

	if err := New(srv.URL).Do(context.Background(), Request{Method: "GET", Path: "v1/x"}, nil); err == nil {
		t.Error("a path without a leading slash must be refused")
	}
}

func TestDoRawBody(t *testing.T) {
	srv, got := serve(t, http.StatusOK, jsonCT, ok(`{}`))
	err := New(srv.URL).Do(context.Background(), Request{Method: "POST", Path: "/x", Token: token,
		Query: url.Values{"a": {"1"}}, Body: json.RawMessage(`{"k": 1}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.body != `{"k":1}` || got.rawQuery != "a=1" {
		t.Errorf("body %q query %q", got.body, got.rawQuery)
	}
}
