package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/jsonstr"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Store is what the endpoints read beyond the authorizer's cached facts.
type Store interface {
	ListMemberWorkspaces(ctx context.Context, userID string) ([]store.MemberWorkspace, error)
	ListWorkspacesByOwner(ctx context.Context, owner store.Owner) ([]store.Workspace, error)
}

// API serves the OpenAPI identity endpoints.
type API struct {
	Authz *authz.Authorizer
	Store Store
	// Enterprise performs the enterprise members endpoints.
	Enterprise *enterprise.Service
	// Identity and Resources serve the resources API.
	Identity  *identity.Service
	Resources store.Resources
	// Changed drops this process's caches after a removal (other processes
	// follow the store's revision).
	Changed func()
	Log     *slog.Logger
	// PublicURL is the server's external base URL; generated avatar URLs
	// (defaultAvatar) live under it.
	PublicURL string
}

// Register mounts the endpoints on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("GET /v1/users/me", a.bearer(a.usersMe))
	mux.HandleFunc("GET "+AvatarPath+"{file}", Avatar)
	mux.Handle("GET /v1/workspaces", a.bearer(a.listWorkspaces))
	mux.Handle("POST /api/cozeauth/v1/authz/check", a.bearer(a.check))
	mux.Handle("POST /api/cozeauth/v1/oauth2/introspect", a.bearer(a.introspect))
	mux.Handle("POST /v1/enterprises/{enterprise_id}/members", a.bearer(membersCall(a, a.addMembers)))
	mux.Handle("PUT /v1/enterprises/{enterprise_id}/members/{user_id}", a.bearer(membersCall(a, a.updateMember)))
	mux.Handle("DELETE /v1/enterprises/{enterprise_id}/members/{user_id}", a.bearer(membersCall(a, a.removeMember)))
	mux.Handle("POST /api/cozeauth/v1/resources", a.bearer(a.createResource))
	mux.Handle("DELETE /api/cozeauth/v1/resources", a.bearer(a.deleteResource))
}

// BearerToken extracts the token of an "Authorization: Bearer <t>" header; the
// scheme is case-insensitive (RFC 6750 §2.1, RFC 7235 §2.1).
func BearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != "" && !strings.ContainsAny(tok, " \t")
}

type principalHandler func(w http.ResponseWriter, r *http.Request, p *authz.Principal)

// bearer authenticates the request's bearer credential (decision step 1) and
// answers 4100 for anything else.
func (a *API) bearer(next principalHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := BearerToken(r)
		if !ok {
			WriteError(w, r, a.Log, Unauthenticated("missing or malformed Authorization header; send \"Authorization: Bearer <token>\""))
			return
		}
		p, d, err := a.Authz.Authenticate(r.Context(), tok)
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		if p != nil {
			NoteCredential(r, p.Cred.ID)
		}
		if !d.OK() {
			WriteError(w, r, a.Log, Denied(d))
			return
		}
		next(w, r, p)
	})
}

// require checks a permission on an optional resource and writes the error
// when it is denied.
func (a *API) require(w http.ResponseWriter, r *http.Request, p *authz.Principal, name string, ref *authz.ResourceRef, botID string) bool {
	perm, ok := a.Authz.Catalog.Lookup(name)
	if !ok {
		WriteError(w, r, a.Log, errors.New("route guarded by unknown permission "+name))
		return false
	}
	d, err := a.Authz.Check(r.Context(), p, perm, ref, botID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return false
	}
	if !d.OK() {
		WriteError(w, r, a.Log, Denied(d))
		return false
	}
	return true
}

type userProfile struct {
	UserID    string `json:"user_id"`
	UserName  string `json:"user_name"`
	NickName  string `json:"nick_name"`
	AvatarURL string `json:"avatar_url"`
}

func (u userProfile) appendJSON(b []byte) []byte {
	b = append(b, `{"user_id":`...)
	b = jsonstr.Append(b, u.UserID)
	b = append(b, `,"user_name":`...)
	b = jsonstr.Append(b, u.UserName)
	b = append(b, `,"nick_name":`...)
	b = jsonstr.Append(b, u.NickName)
	b = append(b, `,"avatar_url":`...)
	b = jsonstr.Append(b, u.AvatarURL)
	return append(b, '}')
}

// usersMe answers WIRE.md §8.1. A credential without a person (a SAT, an app
// acting as itself) describes its service identity.
func (a *API) usersMe(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	if p.Cred.UserID == "" {
		WriteData(w, r, userProfile{UserID: p.Cred.ID, UserName: p.Name, NickName: p.Name, AvatarURL: a.defaultAvatar(p.Cred.ID)})
		return
	}
	u, ok, err := a.Authz.Facts.User(r.Context(), p.Cred.UserID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if !ok {
		WriteError(w, r, a.Log, Unauthenticated("the credential's user no longer exists"))
		return
	}
	avatar := u.AvatarURL
	if avatar == "" {
		avatar = a.defaultAvatar(u.ID)
	}
	WriteData(w, r, userProfile{UserID: u.ID, UserName: u.Username, NickName: u.Nickname, AvatarURL: avatar})
}

type workspaceJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	IconURL       string `json:"icon_url"`
	RoleType      string `json:"role_type"`
	WorkspaceType string `json:"workspace_type"`
	EnterpriseID  string `json:"enterprise_id"`
}

type workspacesPage struct {
	TotalCount int             `json:"total_count"`
	Workspaces []workspaceJSON `json:"workspaces"`
}

// MaxPageSize bounds page_size on list endpoints.
const MaxPageSize = 50

// pageParams reads page_num (default 1) and page_size (default 20).
func pageParams(r *http.Request) (num, size int, err *Error) {
	q := r.URL.Query()
	num, size = 1, 20
	for _, f := range []struct {
		name string
		dst  *int
		max  int
	}{{"page_num", &num, 1 << 30}, {"page_size", &size, MaxPageSize}} {
		s := q.Get(f.name)
		if s == "" {
			continue
		}
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 || n > f.max {
			return 0, 0, BadRequest("%s must be an integer from 1 to %d, got %q", f.name, f.max, s)
		}
		*f.dst = n
	}
	return num, size, nil
}

// listWorkspaces answers WIRE.md §8.2 with the workspaces the credential
// reaches: its account's workspaces (listed or all) that its user, if it acts
// for one, is a member of.
func (a *API) listWorkspaces(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	num, size, perr := pageParams(r)
	if perr != nil {
		WriteError(w, r, a.Log, perr)
		return
	}
	if !a.require(w, r, p, "Workspace.list", nil, "") {
		return
	}
	var all []workspaceJSON
	add := func(ws store.Workspace, role store.WorkspaceRole) {
		if !p.Cred.Reaches(ws) {
			return
		}
		j := workspaceJSON{ID: ws.ID, Name: ws.Name, IconURL: ws.IconURL, RoleType: string(role), WorkspaceType: "personal"}
		if ws.Owner.Type == store.OwnerEnterprise {
			j.WorkspaceType, j.EnterpriseID = "team", ws.Owner.ID
		}
		all = append(all, j)
	}
	if p.Cred.UserID != "" {
		mws, err := a.Store.ListMemberWorkspaces(r.Context(), p.Cred.UserID)
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		for _, mw := range mws {
			add(mw.Workspace, mw.Role)
		}
	} else {
		wss, err := a.Store.ListWorkspacesByOwner(r.Context(), p.Cred.Account)
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		for _, ws := range wss {
			add(ws, store.WorkspaceRoleMember)
		}
	}
	if ent := r.URL.Query().Get("enterprise_id"); ent != "" {
		kept := all[:0]
		for _, j := range all {
			if j.EnterpriseID == ent {
				kept = append(kept, j)
			}
		}
		all = kept
	}
	page := workspacesPage{TotalCount: len(all), Workspaces: []workspaceJSON{}}
	if start := (num - 1) * size; start < len(all) {
		page.Workspaces = all[start:min(start+size, len(all))]
	}
	WriteData(w, r, page)
}

// maxBody bounds JSON request bodies.
const maxBody = 64 << 10

// DecodeJSON reads a JSON object body into dst, answering 4000 for anything
// malformed or oversized.
func DecodeJSON(r *http.Request, dst any) *Error {
	buf, e := readBody(r)
	if e != nil {
		return e
	}
	defer putBuffer(buf)
	return unmarshalBody(buf.Bytes(), dst)
}

// readBody reads the request body, up to maxBody bytes, into a pooled
// buffer, which the caller puts back (putBuffer) once done with its bytes:
// no growing copies of the body, and decoders work on it in place
// (json.Unmarshal copies every string it keeps).
func readBody(r *http.Request) (*bytes.Buffer, *Error) {
	buf := getBuffer()
	// Read straight into buf, at most maxBody+1 bytes (one more tells an
	// oversized body): no io.LimitReader allocated per request.
	for buf.Len() <= maxBody {
		if buf.Available() == 0 {
			buf.Grow(4 << 10)
		}
		p := buf.AvailableBuffer()
		p = p[:min(cap(p), maxBody+1-buf.Len())]
		n, err := r.Body.Read(p)
		buf.Write(p[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			putBuffer(buf)
			return nil, BadRequest("could not read the request body")
		}
	}
	if buf.Len() > maxBody {
		putBuffer(buf)
		return nil, BadRequest("request body is larger than %d bytes", maxBody)
	}
	return buf, nil
}

// unmarshalBody decodes a JSON object body read by readBody into dst.
func unmarshalBody(body []byte, dst any) *Error {
	if len(bytes.TrimSpace(body)) == 0 {
		return BadRequest("request body is empty; send a JSON object")
	}
	if err := json.Unmarshal(body, dst); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) && strings.Contains(se.Error(), "after top-level value") {
			return BadRequest("request body has data after the JSON object")
		}
		return BadRequest("request body is not valid JSON: %v", err)
	}
	return nil
}

type checkRequest struct {
	Permission string             `json:"permission"`
	Resource   *authz.ResourceRef `json:"resource"`
	// BotID names the bot of a Connector.botChat check, for tokens whose
	// scope limits it to some bots.
	BotID string `json:"bot_id"`
}

// check answers whether the bearer credential may use a permission on a
// resource: {"allowed": true} or the 4100/4101/4200 envelope.
func (a *API) check(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	buf, e := readBody(r)
	if e != nil {
		WriteError(w, r, a.Log, e)
		return
	}
	// The common shape by hand (req and res stay on the stack: ref, not
	// req.Resource, points at res), anything else by encoding/json into a
	// request of its own.
	var req checkRequest
	var res authz.ResourceRef
	var ref *authz.ResourceRef
	if ok, hasRes := decodeCheck(buf.Bytes(), &req, &res); !ok {
		var slow checkRequest
		e = unmarshalBody(buf.Bytes(), &slow)
		req, ref = slow, slow.Resource
	} else if hasRes {
		ref = &res
	}
	putBuffer(buf)
	if e != nil {
		WriteError(w, r, a.Log, e)
		return
	}
	if req.Permission == "" {
		WriteError(w, r, a.Log, BadRequest("permission is required"))
		return
	}
	perm, ok := a.Authz.Catalog.Lookup(req.Permission)
	if !ok {
		WriteError(w, r, a.Log, BadRequest("unknown permission %q", req.Permission))
		return
	}
	if ref == nil && perm.Level != permission.LevelAccount {
		// Without the resource there is nothing to decide steps 3-5 on: an
		// answer would say "allowed" for every workspace or enterprise.
		WriteError(w, r, a.Log, BadRequest("%s is a %s-level permission: name the resource it acts on, e.g. {\"resource\":{\"type\":%q,\"id\":\"…\"}}", perm.Name, perm.Level, perm.ResourceType))
		return
	}
	if ref != nil {
		if err := authz.CheckResourceType(perm, *ref); err != nil {
			WriteError(w, r, a.Log, BadRequest("%v", strings.TrimPrefix(err.Error(), authz.ErrBadResource.Error()+": ")))
			return
		}
	}
	if !a.require(w, r, p, perm.Name, ref, req.BotID) {
		return
	}
	WriteData(w, r, allowed)
}

// allowed is the check's answer, encoded (and boxed) once.
var allowed any = json.RawMessage(`{"allowed":true}`)
