package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestEnterpriseMembersCalls(t *testing.T) {
	ctx := context.Background()
	const ct = "application/json; charset=utf-8"
	tests := []struct {
		name    string
		call    func(c *Client) error
		wantReq seen
	}{
		{
			name: "add members",
			call: func(c *Client) error {
				return c.AddEnterpriseMembers(ctx, token, "e1", []EnterpriseMember{
					{UserID: "u1", Role: EnterpriseRoleMember}, {UserID: "u2", Role: EnterpriseRoleAdmin}})
			},
			wantReq: seen{method: "POST", path: "/v1/enterprises/e1/members", auth: "Bearer pat_test", contentType: ct,
				body: `{"users":[{"user_id":"u1","role":"enterprise_member"},{"user_id":"u2","role":"enterprise_admin"}]}`},
		},
		{
			name: "add no members sends an empty list, not null",
			call: func(c *Client) error { return c.AddEnterpriseMembers(ctx, token, "e1", nil) },
			wantReq: seen{method: "POST", path: "/v1/enterprises/e1/members", auth: "Bearer pat_test", contentType: ct,
				body: `{"users":[]}`},
		},
		{
			name: "update member",
			call: func(c *Client) error { return c.UpdateEnterpriseMember(ctx, token, "e1", "u1", EnterpriseRoleAdmin) },
			wantReq: seen{method: "PUT", path: "/v1/enterprises/e1/members/u1", auth: "Bearer pat_test", contentType: ct,
				body: `{"role":"enterprise_admin"}`},
		},
		{
			name: "remove member sends the receiver in a JSON body",
			call: func(c *Client) error { return c.RemoveEnterpriseMember(ctx, token, "e1", "u1", "u9") },
			wantReq: seen{method: "DELETE", path: "/v1/enterprises/e1/members/u1", auth: "Bearer pat_test", contentType: ct,
				body: `{"receiver_user_id":"u9"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// WIRE.md §8.4: data is {} and ignored, and may be absent.
			for _, body := range []string{ok(`{}`), `{"code":0,"msg":""}`} {
				srv, got := serve(t, http.StatusOK, jsonCT, body)
				if err := tt.call(New(srv.URL)); err != nil {
					t.Fatalf("answer %s: %v", body, err)
				}
				if *got != tt.wantReq {
					t.Errorf("request = %+v, want %+v", *got, tt.wantReq)
				}
			}
		})
	}
}

func TestEnterpriseMembersErrors(t *testing.T) {
	ctx := context.Background()
	calls := map[string]func(c *Client) error{
		"add": func(c *Client) error {
			return c.AddEnterpriseMembers(ctx, token, "e1", []EnterpriseMember{{UserID: "u1", Role: EnterpriseRoleMember}})
		},
		"update": func(c *Client) error { return c.UpdateEnterpriseMember(ctx, token, "e1", "u1", EnterpriseRoleMember) },
		"remove": func(c *Client) error { return c.RemoveEnterpriseMember(ctx, token, "e1", "u1", "u2") },
	}
	tests := []struct {
		name   string
		status int
		body   string
		want   Code
		is     func(error) bool
	}{
		{"not an admin", 403, `{"code":4101,"msg":"user is not an admin of enterprise e1"}`, CodeForbidden, IsForbidden},
		{"revoked token", 401, `{"code":4100,"msg":"credential revoked"}`, CodeUnauthenticated, IsUnauthenticated},
		{"unknown user", 404, `{"code":4200,"msg":"user \"u1\" not found"}`, CodeNotFound, IsNotFound},
		{"bad role", 400, `{"code":4000,"msg":"role \"owner\": use enterprise_admin or enterprise_member"}`, CodeBadRequest, IsBadRequest},
	}
	for _, tt := range tests {
		for name, call := range calls {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				srv, _ := serve(t, tt.status, jsonCT, tt.body)
				err := call(New(srv.URL))
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != int(tt.want) || ae.HTTPStatus != tt.status || ae.LogID != "L1" || ae.Msg == "" {
					t.Fatalf("err = %v (%#v), want an *APIError %d with HTTP %d, a message and log ID L1", err, ae, tt.want, tt.status)
				}
				if !tt.is(err) || !errors.Is(err, tt.want) {
					t.Errorf("err %v is not classified as %v", err, tt.want)
				}
			})
		}
	}
}

func TestEnterpriseMembersPaths(t *testing.T) {
	var n atomic.Int32
	var escaped string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		escaped = r.URL.EscapedPath()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(ok(`{}`)))
	}))
	defer srv.Close()
	c := New(srv.URL)
	ctx := context.Background()

	// IDs are path segments: escaped, never able to change the route.
	if err := c.UpdateEnterpriseMember(ctx, token, "e 1", "u/1", EnterpriseRoleMember); err != nil {
		t.Fatal(err)
	}
	if escaped != "/v1/enterprises/e%201/members/u%2F1" {
		t.Errorf("escaped path = %q", escaped)
	}

	n.Store(0)
	for name, err := range map[string]error{
		"add, no enterprise":    c.AddEnterpriseMembers(ctx, token, "", nil),
		"update, no enterprise": c.UpdateEnterpriseMember(ctx, token, "", "u1", EnterpriseRoleAdmin),
		"update, no user":       c.UpdateEnterpriseMember(ctx, token, "e1", "", EnterpriseRoleAdmin),
		"remove, no user":       c.RemoveEnterpriseMember(ctx, token, "e1", "", "u2"),
		"remove, no enterprise": c.RemoveEnterpriseMember(ctx, token, "", "u1", "u2"),
	} {
		var ae *APIError
		if err == nil || errors.As(err, &ae) {
			t.Errorf("%s: err = %v, want a local error", name, err)
		}
	}
	if got := n.Load(); got != 0 {
		t.Errorf("%d requests sent with an empty ID", got)
	}
}
