// Package client is a Go client for the Coze OpenAPI as served by cozeauth or
// by the Coze cloud (https://api.coze.com, https://api.coze.cn).
//
// It exists so programs can call the identity endpoints (/v1/users/me,
// /v1/workspaces), the enterprise members endpoints (AddEnterpriseMembers,
// UpdateEnterpriseMember, RemoveEnterpriseMember) and cozeauth's
// authorization check without depending on a particular Coze SDK, and so
// cozeauth's own end-to-end tests exercise the wire protocol exactly as a user
// would. It also runs the OAuth flows of coze-go's OAuth clients (oauth.go,
// jwt.go): OAuthURL / ExchangeCode / Refresh (Web, client secret), PKCEURL /
// ExchangeCodePKCE, DeviceCode / PollDeviceToken, and JWTToken (RS256 JWT
// bearer grant, optionally on the account/{id} or enterprise_id/{id} token
// path). Their failures are *AuthError values carrying the OAuth error code
// (errors.As, IsAuthError).
//
// A Client holds only the base URL, an *http.Client and request settings; it
// is safe for concurrent use. Every call takes the bearer token explicitly, so
// one Client can serve many users:
//
//	c := client.New("http://127.0.0.1:8080")
//	me, err := c.UsersMe(ctx, "pat_…")
//
// # Errors
//
// The Coze OpenAPI answers every call with the envelope
// {"code", "msg", "data", "detail": {"logid"}} (WIRE.md §7). A non-zero code,
// or an HTTP error status, is returned as an *APIError carrying the HTTP
// status, the code, the message and the log ID (from the X-Tt-Logid header,
// else detail.logid), which is what to quote in a bug report. Compare codes
// with errors.Is against the Code constants, or with the predicates:
//
//	if client.IsUnauthenticated(err) { … }                // 4100: token missing, unknown, expired or revoked
//	if errors.Is(err, client.CodeForbidden) { … }          // 4101: the token lacks the permission or workspace
//	var apiErr *client.APIError
//	if errors.As(err, &apiErr) { log.Print(apiErr.LogID) }
//
// When a response carries no code (an HTML error page from a proxy, an
// empty 502), the code is inferred from the HTTP status the way the official
// JavaScript SDK classifies errors: 400→4000, 401→4100, 403→4101, 404→4200,
// 429→4013. A body that is not JSON is reported as an *APIError whose message
// says so, with the status and the start of the body.
package client
