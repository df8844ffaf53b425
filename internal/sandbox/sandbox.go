package sandbox

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cozeauth/cozeauth/internal/logid"
)

// Defaults of Options.
const (
	DefaultMaxConversations = 10_000
	// maxBody bounds a request body: chat and workflow requests are small.
	maxBody = 1 << 20
)

// Options configures a sandbox. The zero value is usable.
type Options struct {
	// Now is the clock of created_at and friends; time.Now when nil.
	Now func() time.Time
	// NewID returns a new unique ID for conversations, chats, messages,
	// sections and workflow executions (Coze's are numeric strings). When nil,
	// IDs count up from a random 19-digit start; SequentialIDs gives
	// predictable ones for tests.
	NewID func() string
	// MaxConversations bounds the conversations kept in memory; the oldest
	// is forgotten beyond it. DefaultMaxConversations when 0.
	MaxConversations int
	// Logger receives internal errors (a response that cannot be encoded);
	// slog.Default() when nil.
	Logger *slog.Logger
}

// SequentialIDs returns an ID generator counting up from first, for tests.
// It is safe for concurrent use.
func SequentialIDs(first uint64) func() string {
	var n atomic.Uint64
	n.Store(first)
	return func() string { return strconv.FormatUint(n.Add(1)-1, 10) }
}

// randomIDs counts up from a random 19-digit number, like Coze's IDs.
func randomIDs() func() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	const lo, span = 7_000_000_000_000_000_000, 1_000_000_000_000_000_000
	return SequentialIDs(lo + binary.LittleEndian.Uint64(b[:])%(span/2))
}

// Sandbox is the http.Handler New returns.
type Sandbox struct {
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	st    *state
	// beforeEvent, when set (tests only), runs before each SSE event is
	// written; a non-nil error ends the stream.
	beforeEvent func(event string) error
}

var _ http.Handler = (*Sandbox)(nil)

// New returns the sandbox upstream.
func New(opts Options) http.Handler { return newSandbox(opts) }

func newSandbox(opts Options) *Sandbox {
	s := &Sandbox{now: opts.Now, newID: opts.NewID, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = randomIDs()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	limit := opts.MaxConversations
	if limit <= 0 {
		limit = DefaultMaxConversations
	}
	s.st = newState(limit)
	return s
}

// handler answers one route; a returned error is written as a Coze error
// envelope (an *apiError as it is, anything else as an internal error).
type handler func(s *Sandbox, w http.ResponseWriter, r *http.Request) error

type route struct {
	methods []string
	h       handler
}

// routes are the paths the sandbox serves. Where the SDKs disagree on the
// method (chat retrieve: GET in coze-go, POST in coze-js and cozepy), both are
// accepted.
var routes = map[string]route{
	"/v3/chat":                          {[]string{http.MethodPost}, (*Sandbox).chatCreate},
	"/v3/chat/retrieve":                 {[]string{http.MethodGet, http.MethodPost}, (*Sandbox).chatRetrieve},
	"/v3/chat/message/list":             {[]string{http.MethodGet}, (*Sandbox).chatMessages},
	"/v3/chat/cancel":                   {[]string{http.MethodPost}, (*Sandbox).chatCancel},
	"/v3/chat/submit_tool_outputs":      {[]string{http.MethodPost}, (*Sandbox).chatSubmitToolOutputs},
	"/v1/conversation/create":           {[]string{http.MethodPost}, (*Sandbox).conversationCreate},
	"/v1/workflow/conversation/create":  {[]string{http.MethodPost}, (*Sandbox).conversationCreate},
	"/v1/conversation/retrieve":         {[]string{http.MethodGet}, (*Sandbox).conversationRetrieve},
	"/v1/conversations":                 {[]string{http.MethodGet}, (*Sandbox).conversationList},
	"/v1/conversation/message/create":   {[]string{http.MethodPost}, (*Sandbox).messageCreate},
	"/v1/conversation/message/list":     {[]string{http.MethodPost}, (*Sandbox).messageList},
	"/v1/conversation/message/retrieve": {[]string{http.MethodGet}, (*Sandbox).messageRetrieve},
	"/v1/workflow/run":                  {[]string{http.MethodPost}, (*Sandbox).workflowRun},
	"/v1/workflow/stream_run":           {[]string{http.MethodPost}, (*Sandbox).workflowStreamRun},
	"/v1/workflows/chat":                {[]string{http.MethodPost}, (*Sandbox).workflowChat},
}

// ServeHTTP answers r, or a Coze error envelope for a route it does not serve.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = withLogID(w, r, s.now())
	var h handler
	methods := []string{http.MethodPost}
	path := r.URL.Path
	if rt, ok := routes[path]; ok {
		h, methods = rt.h, rt.methods
	} else if id, ok := cut(path, "/v1/conversations/", "/clear"); ok {
		h = func(s *Sandbox, w http.ResponseWriter, r *http.Request) error { return s.conversationClear(w, r, id) }
	} else if wf, ex, ok := runHistoryPath(path); ok {
		methods = []string{http.MethodGet}
		h = func(s *Sandbox, w http.ResponseWriter, r *http.Request) error { return s.workflowHistory(w, r, wf, ex) }
	} else {
		s.writeError(w, r, notFound("the sandbox upstream does not serve %s %s", r.Method, path))
		return
	}
	if !slices.Contains(methods, r.Method) {
		s.writeError(w, r, badRequest("%s %s: method not allowed, use %s", r.Method, path, strings.Join(methods, " or ")))
		return
	}
	if err := h(s, w, r); err != nil {
		s.writeError(w, r, err)
	}
}

// cut returns the single path segment between prefix and suffix.
func cut(path, prefix, suffix string) (string, bool) {
	mid, ok := strings.CutPrefix(path, prefix)
	if !ok {
		return "", false
	}
	mid, ok = strings.CutSuffix(mid, suffix)
	if !ok || mid == "" || strings.Contains(mid, "/") {
		return "", false
	}
	return mid, true
}

// runHistoryPath splits /v1/workflows/{workflow_id}/run_histories/{execute_id}.
func runHistoryPath(path string) (workflowID, executeID string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/v1/workflows/")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] != "run_histories" || parts[2] == "" {
		return "", "", false
	}
	return parts[0], parts[2], true
}

// ---------------------------------------------------------------- identity

// The identity headers the gateway sets (every caller-sent X-Cozeauth-*
// header is removed first).
const (
	headerAccountID = "X-Cozeauth-Account-Id"
	headerUserID    = "X-Cozeauth-User-Id"
)

// owner is the account a request acts for: "" when the sandbox is called
// without the gateway (then no conversation is kept to an account).
func owner(r *http.Request) string {
	if a := r.Header.Get(headerAccountID); a != "" {
		return a
	}
	return r.Header.Get(headerUserID)
}

// ---------------------------------------------------------------- errors

// Coze codes used by the sandbox (WIRE.md §7), with their HTTP statuses.
const (
	codeBadRequest = 4000
	codeForbidden  = 4101
	codeNotFound   = 4200
	// codeNotCancelable is Coze's "the chat cannot be canceled" (cozepy's
	// create_and_poll re-retrieves on it).
	codeNotCancelable = 4104
	codeInternal      = 5000
)

// apiError is a Coze error answer.
type apiError struct {
	code, status int
	msg          string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.code, e.msg) }

func badRequest(format string, args ...any) *apiError {
	return &apiError{codeBadRequest, http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *apiError {
	return &apiError{codeNotFound, http.StatusNotFound, fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) *apiError {
	return &apiError{codeForbidden, http.StatusForbidden, fmt.Sprintf(format, args...)}
}

// ---------------------------------------------------------------- envelope

type detail struct {
	LogID string `json:"logid"`
}

// envelope is the Coze response body; extra carries the top-level fields some
// routes add beside data (message list paging, workflow run results).
type envelope struct {
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
	Data   any    `json:"data,omitempty"`
	Detail detail `json:"detail"`
}

// withLogID makes sure the request has a log ID in its context and the
// response in its X-Tt-Logid header: the server's middleware sets both; a
// sandbox called on its own makes one.
func withLogID(w http.ResponseWriter, r *http.Request, now time.Time) *http.Request {
	if logid.From(r.Context()) != "" && w.Header().Get(logid.Header) != "" {
		return r
	}
	id := w.Header().Get(logid.Header)
	if id == "" {
		id = logid.From(r.Context())
	}
	if id == "" {
		id = logid.New(now)
	}
	w.Header().Set(logid.Header, id)
	return r.WithContext(logid.With(r.Context(), id))
}

func logID(r *http.Request) string { return logid.From(r.Context()) }

// writeData answers a success envelope with data.
func (s *Sandbox) writeData(w http.ResponseWriter, r *http.Request, data any) {
	s.writeJSON(w, r, http.StatusOK, envelope{Data: data, Detail: detail{LogID: logID(r)}})
}

// writeFlat answers a success body whose fields sit beside code and msg (the
// message list's first_id/last_id/has_more, the workflow run's execute_id …):
// v is a struct embedding flatHead.
func (s *Sandbox) writeFlat(w http.ResponseWriter, r *http.Request, v any) {
	s.writeJSON(w, r, http.StatusOK, v)
}

// flatHead is the common head of a flat success body.
type flatHead struct {
	Code   int    `json:"code"`
	Msg    string `json:"msg"`
	Detail detail `json:"detail"`
}

func (s *Sandbox) head(r *http.Request) flatHead { return flatHead{Detail: detail{LogID: logID(r)}} }

func (s *Sandbox) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *apiError
	if !errors.As(err, &e) {
		s.log.ErrorContext(r.Context(), "sandbox: internal error", "err", err, "logid", logID(r), "path", r.URL.Path)
		e = &apiError{codeInternal, http.StatusInternalServerError, "internal server error"}
	}
	s.writeJSON(w, r, e.status, envelope{Code: e.code, Msg: e.msg, Detail: detail{LogID: logID(r)}})
}

func (s *Sandbox) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		s.log.ErrorContext(r.Context(), "sandbox: encoding a response", "err", err, "logid", logID(r))
		status = http.StatusInternalServerError
		b = []byte(`{"code":5000,"msg":"internal server error"}` + "\n")
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes v as one line of JSON without HTML escaping (SSE data lines
// must not contain newlines; encoding/json never emits raw ones).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---------------------------------------------------------------- requests

// decodeBody decodes a JSON object body into v. An empty body leaves v as it
// is when optional, else it is a 4000.
func decodeBody(r *http.Request, v any, optional bool) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return badRequest("request body is larger than %d bytes", maxBody)
		}
		return badRequest("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		if optional {
			return nil
		}
		return badRequest("the request body must be a JSON object")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("the request body is not valid: %s", jsonProblem(err))
	}
	return nil
}

// jsonProblem says what was wrong with a body in the caller's terms.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("field %q must be %s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("expected a JSON object, got a JSON %s", te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	}
	return err.Error()
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	case "bool":
		return "a boolean"
	case "ptr", "interface":
		return "a value of another type"
	}
	return "a number"
}

// param is a query parameter, falling back to a body field the caller may
// have put there instead.
func param(r *http.Request, name, fromBody string) string {
	if v := r.URL.Query().Get(name); v != "" {
		return v
	}
	return fromBody
}

func required(name, v string) error {
	if strings.TrimSpace(v) == "" {
		return badRequest("%s is required", name)
	}
	return nil
}
