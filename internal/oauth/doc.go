// Package oauth implements Coze's OAuth apps and flows (WIRE.md §3–§6): apps
// with their secrets and keys, the authorization request and consent, the
// device authorization endpoint, and one /token pipeline in which each grant
// type is a small value (STYLE.md practice 4). Issued access tokens are opaque
// and evaluated by the same decision function as PATs.
package oauth
