package client

import (
	"context"
	"strings"
)

// Paths of cozeauth's RFC 7662 introspection and the RFC 7009 revocation.
const (
	pathIntrospect = "/api/cozeauth/v1/oauth2/introspect"
	pathRevoke     = "/api/permission/oauth2/revoke"
)

// Token types an Introspection reports.
const (
	TokenTypeAccess  = "access_token"
	TokenTypeRefresh = "refresh_token"
	TokenTypePAT     = "pat"
	TokenTypeSAT     = "sat"
)

// Introspection is cozeauth's answer about a token (RFC 7662 §2.2). When
// Active is false nothing else is set: the token is unknown, expired,
// revoked, deactivated, malformed, or not the caller's to see.
type Introspection struct {
	Active bool `json:"active"`
	// TokenType is one of the TokenType constants.
	TokenType string `json:"token_type"`
	// ClientID is the app an OAuth token was issued to.
	ClientID string `json:"client_id"`
	// Sub is the user the token acts for; for a SAT its ID, for an app
	// acting as itself its client ID.
	Sub string `json:"sub"`
	// Exp is the expiry (Unix seconds); 0 for a permanent PAT or SAT.
	Exp int64 `json:"exp"`
	// Iat is when the token was issued (Unix seconds).
	Iat int64 `json:"iat"`
	// Scope is the token's permissions, space-separated.
	Scope string `json:"scope"`
	// AccountID is the account the token acts in; AccountType is
	// "personal" or "enterprise".
	AccountID   string `json:"account_id"`
	AccountType string `json:"account_type"`
	// WorkspaceIDs are the workspaces the token reaches, unless
	// AllWorkspaces (all workspaces of the account).
	WorkspaceIDs  []string `json:"workspace_ids"`
	AllWorkspaces bool     `json:"all_workspaces"`
}

// Permissions returns the permissions of Scope.
func (i *Introspection) Permissions() []string { return strings.Fields(i.Scope) }

// Introspect asks cozeauth about subject (any PAT, SAT, access or refresh
// token), authenticating with token, which must carry the Token.introspect
// permission. An inactive subject is not an error: the result has Active
// false. A problem with token itself is an *APIError (4100, 4101).
func (c *Client) Introspect(ctx context.Context, token, subject string) (*Introspection, error) {
	var out Introspection
	if err := c.postOAuth(ctx, pathIntrospect, token, map[string]string{"token": subject}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Revoke revokes an OAuth token of the client (RFC 7009): a refresh token
// with every token of its family, an access token alone. credential
// authenticates the client as on the token endpoint: a web app's client
// secret, a service app's signed JWT, or "" for a public (PKCE, device)
// client. The server answers success for unknown and other clients' tokens
// too; failed client authentication is an *AuthError (invalid_client).
func (c *Client) Revoke(ctx context.Context, clientID, credential, token string) error {
	var out struct{}
	return c.postOAuth(ctx, pathRevoke, credential, map[string]string{"client_id": clientID, "token": token}, &out)
}
