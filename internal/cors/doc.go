// Package cors lets browser PKCE apps (coze-js in a page) call the token,
// device-code and revocation endpoints and the OpenAPI directly: it answers
// CORS preflights and adds CORS headers for exactly the origins of registered
// PKCE apps' redirect URIs and the configured --cors-origin values, and never
// for the console, login or consent pages. Credentials travel in the
// Authorization header, never in cookies, so no response allows credentials.
package cors
