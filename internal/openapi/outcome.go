package openapi

import "net/http"

// Outcome is what an OpenAPI request decided, for the server's metrics and
// its one log line per refusal. The server's middleware puts one in each
// request's context (under OutcomeKey); WriteData, WriteError and
// NoteCredential fill it in.
type Outcome struct {
	// Decided: WriteData or WriteError answered the request, with Code.
	Decided bool
	Code    int
	// Reason is a refusal's message, with its internal cause if any; never a
	// token.
	Reason string
	// CredentialID is the authenticated credential's ID (a PAT, SAT or
	// OAuth token ID), once known.
	CredentialID string
}

type outcomeKey struct{}

// OutcomeKey is the context key of a request's *Outcome.
var OutcomeKey any = outcomeKey{}

func outcomeOf(r *http.Request) *Outcome {
	o, _ := r.Context().Value(outcomeKey{}).(*Outcome)
	return o
}

// NoteCredential records the request's authenticated credential in its
// Outcome.
func NoteCredential(r *http.Request, id string) {
	if o := outcomeOf(r); o != nil {
		o.CredentialID = id
	}
}
