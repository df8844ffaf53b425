// Command upstream is the test upstream of the gateway's end-to-end tests: a
// small Coze-shaped OpenAPI that records every request it receives.
//
//	upstream [--addr 127.0.0.1:0]     prints "http://HOST:PORT" on its first stdout line
//
// Control endpoints (not recorded): GET /_upstream/records (what it received),
// GET /_upstream/count, POST /_upstream/reset, POST /_upstream/release (lets
// paused streams and blocked requests go on), PUT /_upstream/spaces
// {"type","id","space_id"} (what the resolver lookup answers).
//
// OpenAPI it answers: POST /v3/chat (JSON, or SSE whose first event is sent
// before it waits for a release), GET /v3/chat/retrieve, GET
// /v3/chat/message/list, POST /v1/conversation/create, POST
// /v1/workflow/stream_run and /v1/workflow/run, POST /v1/files/upload
// (multipart, streamed), GET /v1/bots/{id} and /v1/workflows/{id} (with the
// registered space_id), a WebSocket upgrade on any path (echoes bytes), and
// anything else as an empty success. Any request with ?_block=1 waits for a
// release before answering.
package main

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record is one request as the upstream received it.
type Record struct {
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   string              `json:"query"`
	Header  map[string][]string `json:"header"`
	Body    string              `json:"body,omitempty"` // JSON bodies, at most 64 KiB
	Bytes   int64               `json:"bytes"`          // body length as read
	Fields  map[string]string   `json:"fields,omitempty"`
	Files   map[string]int64    `json:"files,omitempty"` // multipart file sizes
	BodyErr string              `json:"body_err,omitempty"`
}

type upstream struct {
	mu      sync.Mutex
	records []Record
	gate    chan struct{}
	spaces  map[[2]string]string
	nextID  int64
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
	u := &upstream{gate: make(chan struct{}), spaces: map[[2]string]string{}, nextID: 7400000000000000000}
	fmt.Printf("http://%s\n", ln.Addr())
	srv := &http.Server{Handler: u, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "upstream:", err)
		os.Exit(1)
	}
}

func (u *upstream) id() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.nextID++
	return strconv.FormatInt(u.nextID, 10)
}

func (u *upstream) currentGate() chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gate
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_upstream/") {
		u.control(w, r)
		return
	}
	gate := u.currentGate() // before anything is answered: a release from now on lets this request go
	rec := Record{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		u.record(rec)
		websocketEcho(w, r)
		return
	}
	var body []byte
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		rec.Fields, rec.Files, rec.Bytes, rec.BodyErr = readMultipart(r.Body, params["boundary"])
	} else {
		var err error
		body, err = io.ReadAll(r.Body)
		rec.Bytes = int64(len(body))
		if err != nil {
			rec.BodyErr = err.Error()
		}
		if len(body) <= 64<<10 {
			rec.Body = string(body)
		}
	}
	u.record(rec)
	if rec.BodyErr != "" {
		return
	}
	if r.URL.Query().Get("_block") == "1" {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	switch {
	case r.Method == "POST" && r.URL.Path == "/v3/chat":
		u.chat(w, r, in, gate)
	case r.URL.Path == "/v3/chat/retrieve":
		q := r.URL.Query()
		ok(w, map[string]any{"id": q.Get("chat_id"), "conversation_id": q.Get("conversation_id"), "bot_id": "",
			"status": "completed", "created_at": time.Now().Unix(), "completed_at": time.Now().Unix(),
			"usage": map[string]int{"token_count": 2, "output_count": 1, "input_count": 1}})
	case r.Method == "GET" && r.URL.Path == "/v3/chat/message/list":
		q := r.URL.Query()
		ok(w, []any{message(u.id(), q.Get("conversation_id"), q.Get("chat_id"), "", "answer", "echo")})
	case r.Method == "POST" && r.URL.Path == "/v1/conversation/create":
		ok(w, map[string]any{"id": u.id(), "created_at": time.Now().Unix(), "meta_data": map[string]string{}, "last_section_id": u.id()})
	case r.Method == "POST" && r.URL.Path == "/v1/workflow/stream_run":
		u.workflowStream(w, r, gate)
	case r.Method == "POST" && r.URL.Path == "/v1/workflow/run":
		writeJSON(w, map[string]any{"code": 0, "msg": "", "data": `{"output":"ok"}`, "execute_id": u.id(), "debug_url": ""})
	case r.Method == "POST" && r.URL.Path == "/v1/files/upload":
		name, size := "", int64(0)
		for n, s := range rec.Files {
			name, size = n, s
		}
		ok(w, map[string]any{"id": u.id(), "bytes": size, "file_name": name, "created_at": time.Now().Unix()})
	case r.Method == "GET" && (strings.HasPrefix(r.URL.Path, "/v1/bots/") || strings.HasPrefix(r.URL.Path, "/v1/workflows/")):
		typ, id := "bot", strings.TrimPrefix(r.URL.Path, "/v1/bots/")
		if strings.HasPrefix(r.URL.Path, "/v1/workflows/") {
			typ, id = "workflow", strings.TrimPrefix(r.URL.Path, "/v1/workflows/")
		}
		u.mu.Lock()
		space, known := u.spaces[[2]string{typ, id}]
		u.mu.Unlock()
		if !known {
			writeJSON(w, map[string]any{"code": 4200, "msg": typ + " not found"})
			return
		}
		ok(w, map[string]any{typ + "_id": id, "name": "test " + typ, "space_id": space})
	default:
		ok(w, map[string]any{"path": r.URL.Path})
	}
}

func (u *upstream) record(rec Record) {
	u.mu.Lock()
	u.records = append(u.records, rec)
	u.mu.Unlock()
}

func (u *upstream) control(w http.ResponseWriter, r *http.Request) {
	switch r.Method + " " + r.URL.Path {
	case "GET /_upstream/records":
		u.mu.Lock()
		recs := append([]Record{}, u.records...)
		u.mu.Unlock()
		writeJSON(w, map[string]any{"records": recs})
	case "GET /_upstream/count":
		u.mu.Lock()
		n := len(u.records)
		u.mu.Unlock()
		writeJSON(w, map[string]int{"count": n})
	case "POST /_upstream/reset":
		u.mu.Lock()
		u.records = nil
		u.mu.Unlock()
		writeJSON(w, map[string]any{})
	case "POST /_upstream/release":
		u.mu.Lock()
		close(u.gate)
		u.gate = make(chan struct{})
		u.mu.Unlock()
		writeJSON(w, map[string]any{})
	case "PUT /_upstream/spaces":
		var in struct{ Type, ID, SpaceID string }
		var raw map[string]string
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in.Type, in.ID, in.SpaceID = raw["type"], raw["id"], raw["space_id"]
		u.mu.Lock()
		u.spaces[[2]string{in.Type, in.ID}] = in.SpaceID
		u.mu.Unlock()
		writeJSON(w, map[string]any{})
	default:
		http.NotFound(w, r)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Tt-Logid", "upstream-logid")
	_ = json.NewEncoder(w).Encode(v)
}

func ok(w http.ResponseWriter, data any) {
	writeJSON(w, map[string]any{"code": 0, "msg": "", "data": data, "detail": map[string]string{"logid": "upstream-logid"}})
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// userText is the content of the last user message of a chat request.
func userText(in map[string]any) string {
	msgs, _ := in["additional_messages"].([]any)
	for i := len(msgs) - 1; i >= 0; i-- {
		if m, _ := msgs[i].(map[string]any); m != nil && str(m, "role") == "user" {
			return str(m, "content")
		}
	}
	return ""
}

func message(id, conv, chat, bot, typ, content string) map[string]any {
	return map[string]any{"id": id, "conversation_id": conv, "chat_id": chat, "bot_id": bot, "role": "assistant",
		"type": typ, "content": content, "content_type": "text", "created_at": time.Now().Unix()}
}

type sse struct {
	w http.ResponseWriter
	f *http.ResponseController
}

func (s sse) event(name string, data any) {
	b, _ := json.Marshal(data)
	fmt.Fprintf(s.w, "event:%s\ndata:%s\n\n", name, b)
	_ = s.f.Flush()
}

func startSSE(w http.ResponseWriter) sse {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	return sse{w: w, f: http.NewResponseController(w)}
}

// chat answers /v3/chat: the stream sends conversation.chat.created, waits
// for a release, then the echo, completion and done.
func (u *upstream) chat(w http.ResponseWriter, r *http.Request, in map[string]any, gate chan struct{}) {
	conv := r.URL.Query().Get("conversation_id")
	if conv == "" {
		conv = u.id()
	}
	chatID, bot, text := u.id(), str(in, "bot_id"), userText(in)
	obj := func(status string) map[string]any {
		return map[string]any{"id": chatID, "conversation_id": conv, "bot_id": bot, "status": status,
			"created_at": time.Now().Unix(), "last_error": map[string]any{"code": 0, "msg": ""}}
	}
	if stream, _ := in["stream"].(bool); !stream {
		ok(w, obj("in_progress"))
		return
	}
	s := startSSE(w)
	s.event("conversation.chat.created", obj("created"))
	select {
	case <-gate:
	case <-r.Context().Done():
		return
	}
	msgID := u.id()
	s.event("conversation.message.delta", message(msgID, conv, chatID, bot, "answer", text))
	s.event("conversation.message.completed", message(msgID, conv, chatID, bot, "answer", text))
	done := obj("completed")
	done["usage"] = map[string]int{"token_count": 2, "output_count": 1, "input_count": 1}
	s.event("conversation.chat.completed", done)
	fmt.Fprint(w, "event:done\ndata:\"[DONE]\"\n\n")
	_ = s.f.Flush()
}

// workflowStream answers /v1/workflow/stream_run in Coze's shape: a Message
// event, a pause until a release, then Done.
func (u *upstream) workflowStream(w http.ResponseWriter, r *http.Request, gate chan struct{}) {
	s := startSSE(w)
	fmt.Fprintf(s.w, "id: 0\nevent: Message\ndata: %s\n\n", `{"content":"step one","node_title":"End","node_seq_id":"0","node_is_finish":false}`)
	_ = s.f.Flush()
	select {
	case <-gate:
	case <-r.Context().Done():
		return
	}
	fmt.Fprintf(s.w, "id: 1\nevent: Message\ndata: %s\n\n", `{"content":"step two","node_title":"End","node_seq_id":"1","node_is_finish":true}`)
	fmt.Fprintf(s.w, "id: 2\nevent: Done\ndata: %s\n\n", `{"debug_url":""}`)
	_ = s.f.Flush()
}

// readMultipart streams a multipart body: small fields are kept, files only
// counted.
func readMultipart(body io.Reader, boundary string) (map[string]string, map[string]int64, int64, string) {
	fields, files := map[string]string{}, map[string]int64{}
	cr := &countReader{r: body}
	mr := multipart.NewReader(cr, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return fields, files, cr.n, ""
		}
		if err != nil {
			return fields, files, cr.n, err.Error()
		}
		if p.FileName() != "" {
			n, err := io.Copy(io.Discard, p)
			files[p.FileName()] = n
			if err != nil {
				return fields, files, cr.n, err.Error()
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(p, 4096))
		if err != nil {
			return fields, files, cr.n, err.Error()
		}
		fields[p.FormName()] = string(b)
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// websocketEcho completes an RFC 6455 handshake by hand and then echoes
// every byte it receives (frames included, unparsed).
func websocketEcho(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Sec-Websocket-Key")
	if key == "" {
		http.Error(w, "missing Sec-WebSocket-Key", http.StatusBadRequest)
		return
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	fmt.Fprintf(brw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		base64.StdEncoding.EncodeToString(h[:]))
	if err := brw.Flush(); err != nil {
		return
	}
	_, _ = io.Copy(conn, brw.Reader)
}
