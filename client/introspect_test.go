package client

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestIntrospect(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		rep     reply
		want    *Introspection
		wantErr Code
	}{
		{"active", reply{200, `{"active":true,"token_type":"access_token","client_id":"cid","sub":"u1","exp":1900000000,"iat":1800000000,` +
			`"scope":"Bot.chat Workspace.list","account_id":"a1","account_type":"personal","workspace_ids":["w1"],"all_workspaces":false}`},
			&Introspection{Active: true, TokenType: TokenTypeAccess, ClientID: "cid", Sub: "u1", Exp: 1900000000, Iat: 1800000000,
				Scope: "Bot.chat Workspace.list", AccountID: "a1", AccountType: "personal", WorkspaceIDs: []string{"w1"}}, 0},
		{"inactive", reply{200, `{"active":false}`}, &Introspection{}, 0},
		{"caller unauthenticated", reply{401, `{"code":4100,"msg":"unknown token","detail":{"logid":"l"}}`}, nil, CodeUnauthenticated},
		{"caller lacks the permission", reply{403, `{"code":4101,"msg":"credential lacks permission Token.introspect","detail":{"logid":"l"}}`}, nil, CodeForbidden},
	}
	for _, tt := range tests {
		f, c := newFake(t, tt.rep)
		got, err := c.Introspect(ctx, "pat_caller", "czu_subject")
		if tt.wantErr != 0 {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", tt.name, got, tt.want)
		}
		r := f.reqs[0]
		if r.path != "/api/cozeauth/v1/oauth2/introspect" || r.auth != "Bearer pat_caller" || r.body["token"] != "czu_subject" {
			t.Errorf("%s: request %+v", tt.name, r)
		}
	}
	active := &Introspection{Scope: "Bot.chat  Workspace.list"}
	if got := active.Permissions(); !reflect.DeepEqual(got, []string{"Bot.chat", "Workspace.list"}) {
		t.Errorf("Permissions() = %q", got)
	}
}

func TestRevoke(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, secret string
		rep          reply
		wantAuth     string
		wantErr      string
	}{
		{"public client", "", reply{200, `{}`}, "", ""},
		{"web client", "czs_secret", reply{200, `{}`}, "Bearer czs_secret", ""},
		{"bad client", "czs_wrong", reply{401, oauthErrBody("invalid_client")}, "Bearer czs_wrong", "invalid_client"},
		{"missing token", "", reply{400, oauthErrBody("invalid_request")}, "", "invalid_request"},
	}
	for _, tt := range tests {
		f, c := newFake(t, tt.rep)
		err := c.Revoke(ctx, "cid", tt.secret, "czr_x")
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr != "" && !IsAuthError(err, tt.wantErr):
			t.Errorf("%s: err = %v, want %s", tt.name, err, tt.wantErr)
		}
		r := f.reqs[0]
		if r.path != "/api/permission/oauth2/revoke" || r.auth != tt.wantAuth || r.body["client_id"] != "cid" || r.body["token"] != "czr_x" {
			t.Errorf("%s: request %+v", tt.name, r)
		}
	}
}
