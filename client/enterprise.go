package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
)

// The roles the enterprise members endpoints give (WIRE.md §8.4). A
// SuperAdmin is not made or changed through them.
const (
	EnterpriseRoleAdmin  = "enterprise_admin"
	EnterpriseRoleMember = "enterprise_member"
)

// EnterpriseMember is one user to add to an enterprise, with the role to give.
type EnterpriseMember struct {
	UserID string `json:"user_id"`
	// Role is EnterpriseRoleAdmin or EnterpriseRoleMember.
	Role string `json:"role"`
}

// errEmptyID keeps an empty ID from turning a path into another route
// ("/v1/enterprises//members").
var errEmptyID = errors.New("coze: enterprise ID and user ID must not be empty")

// membersPath is /v1/enterprises/{enterpriseID}/members[/{userID}], with the
// IDs escaped.
func membersPath(enterpriseID string, userID ...string) (string, error) {
	if enterpriseID == "" {
		return "", errEmptyID
	}
	p := "/v1/enterprises/" + url.PathEscape(enterpriseID) + "/members"
	for _, u := range userID {
		if u == "" {
			return "", errEmptyID
		}
		p += "/" + url.PathEscape(u)
	}
	return p, nil
}

// AddEnterpriseMembers adds users to an enterprise with the given roles (or
// changes the role of those already in it): POST
// /v1/enterprises/{enterprise_id}/members. The token must carry the
// enterprise-level permission Enterprise.manageMembers in that enterprise: on
// cozeauth, the enterprise's own PAT of a SuperAdmin or Admin, or its SAT.
// An unknown user is a 4200 error, an unknown role a 4000.
func (c *Client) AddEnterpriseMembers(ctx context.Context, token, enterpriseID string, members []EnterpriseMember) error {
	p, err := membersPath(enterpriseID)
	if err != nil {
		return err
	}
	if members == nil {
		members = []EnterpriseMember{}
	}
	body := struct {
		Users []EnterpriseMember `json:"users"`
	}{members}
	return c.Do(ctx, Request{Method: http.MethodPost, Path: p, Token: token, Body: body}, nil)
}

// UpdateEnterpriseMember changes a member's role: PUT
// /v1/enterprises/{enterprise_id}/members/{user_id}. A SuperAdmin's role
// cannot be changed this way (4000).
func (c *Client) UpdateEnterpriseMember(ctx context.Context, token, enterpriseID, userID, role string) error {
	p, err := membersPath(enterpriseID, userID)
	if err != nil {
		return err
	}
	body := struct {
		Role string `json:"role"`
	}{role}
	return c.Do(ctx, Request{Method: http.MethodPut, Path: p, Token: token, Body: body}, nil)
}

// RemoveEnterpriseMember removes a member from an enterprise; the workspaces
// they own there go to receiverUserID, another member: DELETE
// /v1/enterprises/{enterprise_id}/members/{user_id} with the JSON body
// {"receiver_user_id"}. The removed member's enterprise credentials stop
// working.
func (c *Client) RemoveEnterpriseMember(ctx context.Context, token, enterpriseID, userID, receiverUserID string) error {
	p, err := membersPath(enterpriseID, userID)
	if err != nil {
		return err
	}
	body := struct {
		ReceiverUserID string `json:"receiver_user_id"`
	}{receiverUserID}
	return c.Do(ctx, Request{Method: http.MethodDelete, Path: p, Token: token, Body: body}, nil)
}
