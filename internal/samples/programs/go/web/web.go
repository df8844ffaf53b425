//go:build ignore

package main

// The web (confidential) client: authorization code, exchanged with the client secret.
const clientType = "web"

func newFlow() flow { return codeFlow{pkce: false} }
