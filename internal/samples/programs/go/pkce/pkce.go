//go:build ignore

package main

// The pkce (public) client: authorization code with an S256 code challenge, exchanged with the code verifier.
const clientType = "pkce"

func newFlow() flow { return codeFlow{pkce: true} }
