// Package openapi serves the Coze OpenAPI identity endpoints (/v1/users/me,
// /v1/workspaces), cozeauth's authorization check, the bearer middleware and
// the Coze response envelope (WIRE.md §7).
package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Coze API codes with their matched HTTP statuses (WIRE.md §7 DECISION).
const (
	CodeOK              = 0
	CodeBadRequest      = 4000
	CodeUnauthenticated = 4100
	CodeForbidden       = 4101
	CodeNotFound        = 4200
	CodeRateLimited     = 4013
	CodeInternal        = 5000
	// CodeUnavailable: the database did not answer in time; retry (HTTP
	// 503). WIRE.md names no code for it; 5000 stays "internal error".
	CodeUnavailable = 5030
)

func statusOf(code int) int {
	switch code {
	case CodeBadRequest:
		return http.StatusBadRequest
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error is a Coze API error: a code, its HTTP status and a message for the caller.
type Error struct {
	Code   int
	Status int
	Msg    string
	Err    error // cause, logged, never sent
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Msg) }
func (e *Error) Unwrap() error { return e.Err }

func newError(code int, format string, args ...any) *Error {
	return &Error{Code: code, Status: statusOf(code), Msg: fmt.Sprintf(format, args...)}
}

// BadRequest is a 4000 error.
func BadRequest(format string, args ...any) *Error { return newError(CodeBadRequest, format, args...) }

// Unauthenticated is a 4100 error.
func Unauthenticated(format string, args ...any) *Error {
	return newError(CodeUnauthenticated, format, args...)
}

// NotFound is a 4200 error.
func NotFound(format string, args ...any) *Error { return newError(CodeNotFound, format, args...) }

// Denied turns a negative decision into its API error.
func Denied(d permission.Decision) *Error {
	return newError(int(d.Code), "%s", d.Reason)
}

type detail struct {
	LogID string `json:"logid"`
}

type envelope struct {
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
	Data   any    `json:"data,omitempty"`
	Detail detail `json:"detail"`
}

// WriteData writes a success envelope. data must not be nil: every SDK
// dereferences it. A json.RawMessage is written as it is.
func WriteData(w http.ResponseWriter, r *http.Request, data any) {
	if o := outcomeOf(r); o != nil {
		o.Decided, o.Code = true, CodeOK
	}
	id := logid.From(r.Context())
	if !plainLogID(id) {
		writeJSON(w, http.StatusOK, envelope{Data: data, Detail: detail{LogID: id}})
		return
	}
	// The envelope around data is written out, byte for byte what
	// encoding/json makes of envelope, without boxing it and reflecting on
	// it per request (TestWriteData compares the two).
	buf := getBuffer()
	defer putBuffer(buf)
	buf.WriteString(`{"code":0,"msg":"","data":`)
	if raw, ok := data.(json.RawMessage); ok {
		buf.Write(raw)
	} else if ap, ok := data.(jsonAppender); ok {
		buf.Write(ap.appendJSON(buf.AvailableBuffer()))
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(data); err != nil {
			writeJSON(w, http.StatusOK, envelope{Data: data, Detail: detail{LogID: id}})
			return
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteString(`,"detail":{"logid":"`)
	buf.WriteString(id)
	buf.WriteString("\"}}\n")
	writeBody(w, http.StatusOK, buf.Bytes())
}

// jsonAppender is data that appends its own JSON to b, the bytes
// encoding/json would write for it (TestWriteData compares the two).
type jsonAppender interface {
	appendJSON(b []byte) []byte
}

// plainLogID reports whether id needs no JSON escaping (logid.New makes
// digits and hex).
func plainLogID(id string) bool {
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// WriteError writes err as a Coze error envelope. Anything that is not an
// *Error is logged and answered as an internal error without details, or as
// 503 CodeUnavailable (to be retried) when the database did not answer in
// time.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *Error
	if !errors.As(err, &e) && store.ClientGone(r.Context(), err) {
		w.WriteHeader(store.StatusClientClosed)
		return
	}
	if !errors.As(err, &e) {
		if store.Unavailable(err) || store.CallTimedOut(r.Context()) {
			log.WarnContext(r.Context(), "database unavailable", "err", err, "logid", logid.From(r.Context()), "path", r.URL.Path)
			w.Header().Set("Retry-After", "1")
			e = newError(CodeUnavailable, "the server is temporarily overloaded; try again shortly")
		} else {
			log.ErrorContext(r.Context(), "internal error", "err", err, "logid", logid.From(r.Context()), "path", r.URL.Path)
			e = newError(CodeInternal, "internal server error")
		}
	}
	if o := outcomeOf(r); o != nil {
		// The server logs the refusal, once, with the credential's ID.
		o.Decided, o.Code, o.Reason = true, e.Code, e.Msg
		if e.Err != nil {
			o.Reason += " (" + e.Err.Error() + ")"
		}
	} else if e.Err != nil {
		log.InfoContext(r.Context(), "request refused", "code", e.Code, "err", e.Err, "logid", logid.From(r.Context()))
	}
	writeJSON(w, e.Status, envelope{Code: e.Code, Msg: e.Msg, Detail: detail{LogID: logid.From(r.Context())}})
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Header values shared by every response (the map takes them as they are;
// the keys are already canonical).
var (
	jsonContentType = []string{"application/json; charset=utf-8"}
	noStore         = []string{"no-store"}
)

// getBuffer takes an empty buffer from the pool; putBuffer returns it (a
// buffer grown past 64 KiB is left to the collector).
func getBuffer() *bytes.Buffer {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	return buf
}

func putBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 64<<10 {
		buf.Reset()
		bufPool.Put(buf)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := getBuffer()
	defer putBuffer(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"code":5000,"msg":"internal server error"}`)
	}
	writeBody(w, status, buf.Bytes())
}

// writeBody answers status with the JSON body b.
func writeBody(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
