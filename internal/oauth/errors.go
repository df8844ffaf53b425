package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Error is an OAuth error (RFC 6749 §5.2, RFC 8628 §3.5) written in the one
// shape every Coze SDK understands (WIRE.md §3.5): error and error_code carry
// the same code, error_message the text.
type Error struct {
	Code        string
	Description string
	Status      int
	Cause       error // logged, never sent
	retryAfter  int64 // seconds; sent as Retry-After when positive
}

func (e *Error) Error() string { return e.Code + ": " + e.Description }
func (e *Error) Unwrap() error { return e.Cause }

func oauthErr(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Status: status}
}

// Constructors for the codes cozeauth answers.
func ErrInvalidRequest(format string, args ...any) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_request", format, args...)
}
func ErrInvalidClient(format string, args ...any) *Error {
	return oauthErr(http.StatusUnauthorized, "invalid_client", format, args...)
}
func ErrInvalidGrant(format string, args ...any) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_grant", format, args...)
}
func ErrUnauthorizedClient(format string, args ...any) *Error {
	return oauthErr(http.StatusBadRequest, "unauthorized_client", format, args...)
}
func ErrUnsupportedGrantType(format string, args ...any) *Error {
	return oauthErr(http.StatusBadRequest, "unsupported_grant_type", format, args...)
}
func ErrInvalidScope(format string, args ...any) *Error {
	return oauthErr(http.StatusBadRequest, "invalid_scope", format, args...)
}
func ErrAccessDenied(format string, args ...any) *Error {
	return oauthErr(http.StatusBadRequest, "access_denied", format, args...)
}

// errTemporarilyUnavailable: the database did not answer in time (every
// connection busy); the client may retry (RFC 6749 §4.1.2.1's code).
var errTemporarilyUnavailable = oauthErr(http.StatusServiceUnavailable, "temporarily_unavailable",
	"the server is temporarily overloaded; try again shortly")

// Device flow codes (RFC 8628 §3.5).
var (
	errAuthorizationPending = oauthErr(http.StatusBadRequest, "authorization_pending", "authorization pending")
	errSlowDown             = oauthErr(http.StatusBadRequest, "slow_down", "polling too fast; wait at least the interval between polls")
	errExpiredToken         = oauthErr(http.StatusBadRequest, "expired_token", "the device code has expired; request a new one")
)

type errorBody struct {
	Error            string `json:"error"`
	ErrorCode        string `json:"error_code"`
	ErrorMessage     string `json:"error_message"`
	ErrorDescription string `json:"error_description"`
}

// WriteError writes err in the WIRE.md §3.5 shape. Anything that is not an
// *Error is logged and answered as server_error, or as
// temporarily_unavailable (503, to be retried) when the database did not
// answer in time.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) && store.ClientGone(r.Context(), err) {
		w.WriteHeader(store.StatusClientClosed)
		return
	}
	if !errors.As(err, &e) {
		if store.Unavailable(err) || store.CallTimedOut(r.Context()) {
			log.WarnContext(r.Context(), "oauth request: database unavailable", "err", err, "logid", logid.From(r.Context()), "path", r.URL.Path)
			w.Header().Set("Retry-After", "1")
			e = errTemporarilyUnavailable
		} else {
			log.ErrorContext(r.Context(), "oauth internal error", "err", err, "logid", logid.From(r.Context()), "path", r.URL.Path)
			e = oauthErr(http.StatusInternalServerError, "server_error", "internal server error")
		}
	} else if e.Cause != nil {
		log.InfoContext(r.Context(), "oauth request refused", "error", e.Code, "cause", e.Cause, "logid", logid.From(r.Context()))
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(e.retryAfter, 10))
	}
	if ow, ok := w.(*outcomeWriter); ok {
		*ow.outcome = e.Code
	}
	writeJSON(w, e.Status, errorBody{Error: e.Code, ErrorCode: e.Code, ErrorMessage: e.Description, ErrorDescription: e.Description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error","error_code":"server_error","error_message":"internal server error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store") // RFC 6749 §5.1
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
