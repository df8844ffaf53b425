package client

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Code is a Coze API error code. A Code is an error, so that
// errors.Is(err, CodeForbidden) reports whether err is an *APIError with that
// code; constants cannot be reassigned, unlike sentinel error variables.
type Code int

// The codes of the Coze OpenAPI (WIRE.md §7), each sent with its matched HTTP
// status by cozeauth.
const (
	CodeBadRequest      Code = 4000 // HTTP 400: malformed request
	CodeUnauthenticated Code = 4100 // HTTP 401: missing, invalid, expired or revoked token
	CodeForbidden       Code = 4101 // HTTP 403: the token lacks the permission, scope or workspace
	CodeNotFound        Code = 4200 // HTTP 404: no such resource
	CodeRateLimited     Code = 4013 // HTTP 429: rate limited
)

var codeNames = map[Code]string{
	CodeBadRequest:      "bad request",
	CodeUnauthenticated: "unauthenticated",
	CodeForbidden:       "forbidden",
	CodeNotFound:        "not found",
	CodeRateLimited:     "rate limited",
}

func (c Code) Error() string {
	if n, ok := codeNames[c]; ok {
		return "coze code " + strconv.Itoa(int(c)) + " (" + n + ")"
	}
	return "coze code " + strconv.Itoa(int(c))
}

// codeOfStatus is the code an HTTP status stands for when a response carries
// none; the same classification as the JS SDK's APIError.generate.
var codeOfStatus = map[int]Code{
	http.StatusBadRequest:      CodeBadRequest,
	http.StatusUnauthorized:    CodeUnauthenticated,
	http.StatusForbidden:       CodeForbidden,
	http.StatusNotFound:        CodeNotFound,
	http.StatusTooManyRequests: CodeRateLimited,
}

// APIError is an unsuccessful OpenAPI response: a non-zero code, an HTTP
// error status, or a body that is not the JSON envelope.
type APIError struct {
	// HTTPStatus is the response's HTTP status code.
	HTTPStatus int
	// Code is the envelope's code; 0 when the response had none.
	Code int
	// Msg is the envelope's message, or a description of what was wrong with
	// the response.
	Msg string
	// LogID identifies the request in the server's logs: the X-Tt-Logid
	// header, else the body's detail.logid.
	LogID string
}

func (e *APIError) Error() string {
	var b strings.Builder
	if e.Code != 0 {
		fmt.Fprintf(&b, "coze: code %d: %s (HTTP %d", e.Code, e.Msg, e.HTTPStatus)
	} else {
		fmt.Fprintf(&b, "coze: HTTP %d: %s (", e.HTTPStatus, e.Msg)
		b.WriteString("no code")
	}
	if e.LogID != "" {
		b.WriteString(", logid " + e.LogID)
	}
	b.WriteString(")")
	return b.String()
}

// Is reports whether target is the Code of e (or, for a response without a
// code, the code its HTTP status stands for).
func (e *APIError) Is(target error) bool {
	c, ok := target.(Code)
	return ok && e.code() == c
}

func (e *APIError) code() Code {
	if e.Code != 0 {
		return Code(e.Code)
	}
	return codeOfStatus[e.HTTPStatus]
}

// IsBadRequest reports whether err is a 4000 (or HTTP 400) API error.
func IsBadRequest(err error) bool { return errors.Is(err, CodeBadRequest) }

// IsUnauthenticated reports whether err is a 4100 (or HTTP 401) API error: the
// token is missing, malformed, unknown, expired or revoked.
func IsUnauthenticated(err error) bool { return errors.Is(err, CodeUnauthenticated) }

// IsForbidden reports whether err is a 4101 (or HTTP 403) API error: the token
// is valid but lacks the permission, or does not reach the workspace.
func IsForbidden(err error) bool { return errors.Is(err, CodeForbidden) }

// IsNotFound reports whether err is a 4200 (or HTTP 404) API error.
func IsNotFound(err error) bool { return errors.Is(err, CodeNotFound) }

// IsRateLimited reports whether err is a 4013 (or HTTP 429) API error.
func IsRateLimited(err error) bool { return errors.Is(err, CodeRateLimited) }
