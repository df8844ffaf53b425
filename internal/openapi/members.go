package openapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/enterprise"
	"github.com/cozeauth/cozeauth/internal/store"
)

// The enterprise members endpoints (WIRE.md §8.4), guarded by the
// enterprise-level permission Enterprise.manageMembers on the enterprise of
// the path: the enterprise's own credentials, and when they act for a
// person, one who administers it.

const manageMembers = "Enterprise.manageMembers"

type addMembersRequest struct {
	Users []struct {
		UserID string `json:"user_id"`
		Role   string `json:"role"`
	} `json:"users"`
}

type roleRequest struct {
	Role string `json:"role"`
}

type removeMemberRequest struct {
	ReceiverUserID string `json:"receiver_user_id"`
}

// membersGuard authorizes the request on the path's enterprise.
func (a *API) membersGuard(w http.ResponseWriter, r *http.Request, p *authz.Principal) (string, bool) {
	id := r.PathValue("enterprise_id")
	return id, a.require(w, r, p, manageMembers, &authz.ResourceRef{Type: "enterprise", ID: id}, "")
}

// enterpriseError maps the service's refusals to API errors.
func enterpriseError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, enterprise.ErrInvalid):
		return BadRequest("%s", strings.TrimPrefix(msg, enterprise.ErrInvalid.Error()+": "))
	case errors.Is(err, store.ErrNotFound):
		return NotFound("%s", strings.TrimPrefix(msg, store.ErrNotFound.Error()+": "))
	case errors.Is(err, store.ErrInvalid):
		return BadRequest("%s", strings.TrimPrefix(msg, store.ErrInvalid.Error()+": "))
	}
	return err
}

// membersCall is the shape of the three endpoints: decode the body into a
// T, authorize the request on the path's enterprise, run do with the
// enterprise ID and answer an empty success.
func membersCall[T any](a *API, do func(r *http.Request, p *authz.Principal, enterpriseID string, req *T) error) principalHandler {
	return func(w http.ResponseWriter, r *http.Request, p *authz.Principal) {
		var req T
		if e := DecodeJSON(r, &req); e != nil {
			WriteError(w, r, a.Log, e)
			return
		}
		id, ok := a.membersGuard(w, r, p)
		if !ok {
			return
		}
		if err := do(r, p, id, &req); err != nil {
			WriteError(w, r, a.Log, enterpriseError(err))
			return
		}
		WriteData(w, r, struct{}{})
	}
}

func (a *API) addMembers(r *http.Request, p *authz.Principal, id string, req *addMembersRequest) error {
	if len(req.Users) == 0 {
		return BadRequest("users is required: a list of {user_id, role}")
	}
	ms := make([]enterprise.NewMember, 0, len(req.Users))
	for _, u := range req.Users {
		if u.UserID == "" {
			return BadRequest("every user needs a user_id")
		}
		role, err := enterprise.WireRole(u.Role)
		if err != nil {
			return err
		}
		ms = append(ms, enterprise.NewMember{UserID: u.UserID, Role: role})
	}
	return a.Enterprise.AddMembers(r.Context(), id, p.Cred.UserID, ms)
}

func (a *API) updateMember(r *http.Request, p *authz.Principal, id string, req *roleRequest) error {
	role, err := enterprise.WireRole(req.Role)
	if err != nil {
		return err
	}
	return a.Enterprise.SetMemberRole(r.Context(), id, p.Cred.UserID, r.PathValue("user_id"), role)
}

func (a *API) removeMember(r *http.Request, p *authz.Principal, id string, req *removeMemberRequest) error {
	return a.Enterprise.RemoveMember(r.Context(), id, p.Cred.UserID, r.PathValue("user_id"), req.ReceiverUserID)
}
