package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"
)

// User is the profile of the person a token acts for (WIRE.md §8.1). For a
// token without a person (a SAT), cozeauth describes its service identity.
type User struct {
	UserID    string `json:"user_id"`
	UserName  string `json:"user_name"`
	NickName  string `json:"nick_name"`
	AvatarURL string `json:"avatar_url"`
}

// UsersMe returns the user the token acts for: GET /v1/users/me.
func (c *Client) UsersMe(ctx context.Context, token string) (*User, error) {
	var u User
	if err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/users/me", Token: token}, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// Workspace is one entry of a workspace listing (WIRE.md §8.2).
type Workspace struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// IconURL may be empty.
	IconURL string `json:"icon_url"`
	// RoleType is the caller's role: "owner", "admin" or "member".
	RoleType string `json:"role_type"`
	// WorkspaceType is "personal" or "team" (owned by an enterprise).
	WorkspaceType string `json:"workspace_type"`
	// EnterpriseID is the owning enterprise of a team workspace, else "".
	EnterpriseID string `json:"enterprise_id"`
}

// WorkspacePage is one page of a workspace listing.
type WorkspacePage struct {
	// TotalCount counts every workspace of the listing, not just this page.
	TotalCount int         `json:"total_count"`
	Workspaces []Workspace `json:"workspaces"`
}

// ListWorkspacesRequest selects a page of workspaces. Zero fields are not
// sent, so the server's defaults apply (page 1, 20 per page).
type ListWorkspacesRequest struct {
	PageNum  int
	PageSize int
	// EnterpriseID keeps only the workspaces of one enterprise.
	EnterpriseID string
	// UserID and CozeAccountID are passed through to servers that support
	// them (the Coze cloud); cozeauth lists what the token reaches.
	UserID        string
	CozeAccountID string
}

func (r ListWorkspacesRequest) query() url.Values {
	q := url.Values{}
	if r.PageNum != 0 {
		q.Set("page_num", strconv.Itoa(r.PageNum))
	}
	if r.PageSize != 0 {
		q.Set("page_size", strconv.Itoa(r.PageSize))
	}
	for k, v := range map[string]string{"enterprise_id": r.EnterpriseID, "user_id": r.UserID, "coze_account_id": r.CozeAccountID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// ListWorkspaces returns one page of the workspaces the token reaches:
// GET /v1/workspaces. It needs the Workspace.list permission.
func (c *Client) ListWorkspaces(ctx context.Context, token string, req ListWorkspacesRequest) (*WorkspacePage, error) {
	var p WorkspacePage
	if err := c.Do(ctx, Request{Method: http.MethodGet, Path: "/v1/workspaces", Query: req.query(), Token: token}, &p); err != nil {
		return nil, err
	}
	if p.Workspaces == nil {
		p.Workspaces = []Workspace{}
	}
	return &p, nil
}

// Workspaces iterates over every workspace of a listing, fetching pages of
// req.PageSize (default 20) from req.PageNum (default 1) on. It stops after a
// short page or once total_count is reached; an error is yielded once and
// ends the iteration.
func (c *Client) Workspaces(ctx context.Context, token string, req ListWorkspacesRequest) iter.Seq2[Workspace, error] {
	return func(yield func(Workspace, error) bool) {
		if req.PageNum <= 0 {
			req.PageNum = 1
		}
		if req.PageSize <= 0 {
			req.PageSize = 20
		}
		for {
			p, err := c.ListWorkspaces(ctx, token, req)
			if err != nil {
				yield(Workspace{}, err)
				return
			}
			for _, w := range p.Workspaces {
				if !yield(w, nil) {
					return
				}
			}
			if len(p.Workspaces) < req.PageSize || req.PageNum*req.PageSize >= p.TotalCount {
				return
			}
			req.PageNum++
		}
	}
}

// Resource names the object a permission is exercised on, e.g.
// {Type: "bot", ID: "7351…"}; for account-level permissions
// {Type: "account", ID: <account ID>}.
type Resource struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type checkRequest struct {
	Permission string    `json:"permission"`
	Resource   *Resource `json:"resource,omitempty"`
}

// CheckAuthz asks cozeauth whether the token may use permission on resource
// (nil: whether it carries the permission at all):
// POST /api/cozeauth/v1/authz/check. This route is cozeauth's own; the Coze
// cloud does not serve it.
//
// A denial is an error, so its reason and log ID are kept: IsForbidden(err)
// (4101) when the token lacks the permission or does not reach the resource's
// workspace, IsUnauthenticated(err) (4100) for a bad token, IsNotFound(err)
// (4200) for an unknown resource, IsBadRequest(err) (4000) for an unknown
// permission. The result is true only with a nil error.
func (c *Client) CheckAuthz(ctx context.Context, token, permission string, resource *Resource) (bool, error) {
	var out struct {
		Allowed bool `json:"allowed"`
	}
	err := c.Do(ctx, Request{
		Method: http.MethodPost,
		Path:   "/api/cozeauth/v1/authz/check",
		Token:  token,
		Body:   checkRequest{Permission: permission, Resource: resource},
	}, &out)
	if err != nil {
		return false, err
	}
	return out.Allowed, nil
}
