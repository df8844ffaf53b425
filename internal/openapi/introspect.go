package openapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/store"
)

// IntrospectPermission is what a caller of the introspection endpoint needs.
const IntrospectPermission = "Token.introspect"

// introspection is the RFC 7662 §2.2 answer for an active token, with
// cozeauth's additions: the account the token acts in and its workspaces.
type introspection struct {
	Active    bool   `json:"active"`
	TokenType string `json:"token_type"`
	ClientID  string `json:"client_id,omitempty"`
	Sub       string `json:"sub"`
	// Exp is absent for a permanent PAT or SAT.
	Exp           int64    `json:"exp,omitempty"`
	Iat           int64    `json:"iat"`
	Scope         string   `json:"scope"`
	AccountID     string   `json:"account_id"`
	AccountType   string   `json:"account_type"`
	WorkspaceIDs  []string `json:"workspace_ids"`
	AllWorkspaces bool     `json:"all_workspaces"`
}

// inactive is the whole answer for any token that is not active (RFC 7662
// §2.2: nothing else may be said about it).
var inactive = struct {
	Active bool `json:"active"`
}{}

// introspect serves POST /api/cozeauth/v1/oauth2/introspect (RFC 7662).
// The caller authenticates with a bearer credential carrying Token.introspect;
// failures of its own credential are Coze errors (4100, 4101) like every other
// cozeauth OpenAPI call, while the answer about the token is the RFC's JSON.
//
// What a caller may see (RFC 7662 §4 lets the server decide): tokens acting in
// an account the caller's Token.introspect reaches — its own account, or a
// personal account that authorized the caller's enterprise credential — and
// OAuth tokens issued to an app owned by such an account. Any other token is
// answered {"active":false}, exactly as an unknown one, so introspection
// tells no caller about other tenants' tokens.
func (a *API) introspect(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	if !a.require(w, r, p, IntrospectPermission, nil, "") {
		return
	}
	tok, e := introspectedToken(r)
	if e != nil {
		WriteError(w, r, a.Log, e)
		return
	}
	info, ok, err := a.Authz.Introspect(r.Context(), tok)
	if err == nil && ok {
		ok, err = a.mayIntrospect(r.Context(), p, info)
	}
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if !ok {
		writeJSON(w, http.StatusOK, inactive)
		return
	}
	c := &info.Cred
	out := introspection{
		Active: true, TokenType: info.Type, ClientID: info.ClientID, Sub: info.Subject(),
		Exp: c.ExpireAt, Iat: info.IssuedAt, Scope: strings.Join(c.Permissions, " "),
		AccountID: c.Account.ID, AccountType: string(c.Account.Type),
		WorkspaceIDs: []string{}, AllWorkspaces: c.AllWorkspaces,
	}
	if !c.AllWorkspaces && len(c.Workspaces) > 0 {
		out.WorkspaceIDs = c.Workspaces
	}
	writeJSON(w, http.StatusOK, out)
}

// mayIntrospect decides, through the one decision function, whether p's
// Token.introspect reaches the account the token acts in or, for an OAuth
// token, the account that owns its app.
func (a *API) mayIntrospect(ctx context.Context, p *authz.Principal, info *authz.TokenInfo) (bool, error) {
	perm, ok := a.Authz.Catalog.Lookup(IntrospectPermission)
	if !ok {
		return false, errors.New("catalog lacks " + IntrospectPermission)
	}
	accounts := []store.Owner{info.Cred.Account}
	if info.AppOwner.ID != "" && info.AppOwner != info.Cred.Account {
		accounts = append(accounts, info.AppOwner)
	}
	for _, acc := range accounts {
		d, err := a.Authz.Check(ctx, p, perm, &authz.ResourceRef{Type: perm.ResourceType, ID: acc.ID}, "")
		if err != nil {
			return false, err
		}
		if d.OK() {
			return true, nil
		}
	}
	return false, nil
}

// introspectedToken reads the token parameter from a form (RFC 7662 §2.1)
// or a JSON body.
func introspectedToken(r *http.Request) (string, *Error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return "", BadRequest("could not read the request body")
	}
	if len(body) > maxBody {
		return "", BadRequest("request body is larger than %d bytes", maxBody)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var tok string
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return "", BadRequest("malformed form body")
		}
		tok = form.Get("token")
	case "application/json", "":
		var req struct {
			Token string `json:"token"`
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return "", BadRequest("request body is not valid JSON: %v", err)
			}
		}
		tok = req.Token
	default:
		return "", BadRequest("send token as application/x-www-form-urlencoded or JSON, not %s", mt)
	}
	if tok == "" {
		return "", BadRequest("token is required")
	}
	return tok, nil
}
