package openapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/identity"
	"github.com/cozeauth/cozeauth/internal/store"
)

// The resources API: an upstream (Coze Studio, through a hook) registers the
// bots, workflows and datasets it creates with their workspace, so the
// gateway can decide workspace-level permissions on them, and removes them
// when they are deleted. Guarded by Resource.manage on the workspace.

const manageResources = "Resource.manage"

type resourceJSON struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
}

func (a *API) workspaceGuard(w http.ResponseWriter, r *http.Request, p *authz.Principal, workspaceID string) bool {
	return a.require(w, r, p, manageResources, &authz.ResourceRef{Type: "workspace", ID: workspaceID}, "")
}

// createResource registers a resource. Registering the same resource in the
// same workspace again succeeds (an upstream may retry).
func (a *API) createResource(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	var req resourceJSON
	if e := DecodeJSON(r, &req); e != nil {
		WriteError(w, r, a.Log, e)
		return
	}
	if req.Type == "" || req.ID == "" || req.WorkspaceID == "" {
		WriteError(w, r, a.Log, BadRequest("type, id and workspace_id are required"))
		return
	}
	if !a.workspaceGuard(w, r, p, req.WorkspaceID) {
		return
	}
	res, err := a.Identity.CreateResource(r.Context(), req.WorkspaceID, req.Type, req.ID)
	if errors.Is(err, identity.ErrInvalid) {
		if old, gerr := a.Resources.GetResource(r.Context(), req.Type, req.ID); gerr == nil {
			if old.WorkspaceID == req.WorkspaceID {
				WriteData(w, r, req)
				return
			}
			WriteError(w, r, a.Log, BadRequest("%s %s is registered in another workspace; remove it first", req.Type, req.ID))
			return
		}
		WriteError(w, r, a.Log, BadRequest("%s", strings.TrimPrefix(err.Error(), identity.ErrInvalid.Error()+": ")))
		return
	}
	if err != nil {
		WriteError(w, r, a.Log, enterpriseError(err))
		return
	}
	WriteData(w, r, resourceJSON{Type: res.Type, ID: res.ID, WorkspaceID: res.WorkspaceID})
}

// deleteResource removes a registered resource, authorized on the
// workspace it is registered in.
func (a *API) deleteResource(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
	var req resourceJSON
	if e := DecodeJSON(r, &req); e != nil {
		WriteError(w, r, a.Log, e)
		return
	}
	if req.Type == "" || req.ID == "" {
		WriteError(w, r, a.Log, BadRequest("type and id are required"))
		return
	}
	res, err := a.Resources.GetResource(r.Context(), req.Type, req.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && res.WorkspaceID == "") {
		WriteError(w, r, a.Log, NotFound("%s %s is not registered", req.Type, req.ID))
		return
	}
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if req.WorkspaceID != "" && req.WorkspaceID != res.WorkspaceID {
		WriteError(w, r, a.Log, BadRequest("%s %s is registered in another workspace", req.Type, req.ID))
		return
	}
	if !a.workspaceGuard(w, r, p, res.WorkspaceID) {
		return
	}
	err = a.Resources.DeleteResource(r.Context(), req.Type, req.ID)
	if errors.Is(err, store.ErrNotFound) {
		WriteError(w, r, a.Log, NotFound("%s %s is not registered", req.Type, req.ID))
		return
	}
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if a.Changed != nil {
		a.Changed()
	}
	WriteData(w, r, resourceJSON{Type: res.Type, ID: res.ID, WorkspaceID: res.WorkspaceID})
}
