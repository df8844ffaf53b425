package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/permission"
)

// fixedNow is the sandbox clock in tests.
var fixedNow = time.Unix(1_767_225_600, 0) // 2026-01-01T00:00:00Z

func newTestSandbox(t *testing.T, opts ...func(*Options)) *Sandbox {
	t.Helper()
	o := Options{Now: func() time.Time { return fixedNow }, NewID: SequentialIDs(1000)}
	for _, f := range opts {
		f(&o)
	}
	return newSandbox(o)
}

// resp is a recorded response with its envelope decoded.
type resp struct {
	status int
	header http.Header
	body   []byte
	env    struct {
		Code   *int            `json:"code"`
		Msg    string          `json:"msg"`
		Data   json.RawMessage `json:"data"`
		Detail struct {
			LogID string `json:"logid"`
		} `json:"detail"`
	}
	flat map[string]json.RawMessage
}

// call sends one request to h; headers are "Key: value" strings.
func call(t *testing.T, h http.Handler, method, target, body string, headers ...string) resp {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(r.body, &r.env); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, target, err, r.body)
		}
		_ = json.Unmarshal(r.body, &r.flat)
	}
	return r
}

// ok checks a success envelope and decodes its data into out (when not nil).
func (r resp) ok(t *testing.T, out any) {
	t.Helper()
	if r.status != http.StatusOK || r.env.Code == nil || *r.env.Code != 0 {
		t.Fatalf("want HTTP 200 code 0, got HTTP %d: %s", r.status, r.body)
	}
	if r.env.Detail.LogID == "" || r.env.Detail.LogID != r.header.Get(logid.Header) {
		t.Fatalf("detail.logid %q and X-Tt-Logid %q must be set and equal", r.env.Detail.LogID, r.header.Get(logid.Header))
	}
	if out != nil {
		if err := json.Unmarshal(r.env.Data, out); err != nil {
			t.Fatalf("decoding data %s: %v", r.env.Data, err)
		}
	}
}

// sseEvent is one parsed server-sent event.
type sseEvent struct {
	id, event, data string
}

// parseSSE parses a whole stream strictly in the shape the SDKs read: chat
// streams are "event:" then "data:" lines, workflow streams "id: ", "event: ",
// "data: " lines, each event ended by one blank line, nothing else.
func parseSSE(t *testing.T, body []byte, withIDs bool) []sseEvent {
	t.Helper()
	var out []sseEvent
	blocks := strings.Split(string(body), "\n\n")
	if last := blocks[len(blocks)-1]; last != "" {
		t.Fatalf("stream does not end with a blank line: %q", last)
	}
	for _, b := range blocks[:len(blocks)-1] {
		lines := strings.Split(b, "\n")
		var ev sseEvent
		var ok bool
		if withIDs {
			if len(lines) != 3 {
				t.Fatalf("workflow event %q: want id, event and data lines", b)
			}
			ev.id, ok = strings.CutPrefix(lines[0], "id: ")
			if !ok {
				t.Fatalf("event %q: first line is not id", b)
			}
			lines = lines[1:]
		} else if len(lines) != 2 {
			t.Fatalf("chat event %q: want exactly an event and a data line", b)
		}
		prefix := map[bool][2]string{false: {"event:", "data:"}, true: {"event: ", "data: "}}[withIDs]
		if ev.event, ok = strings.CutPrefix(lines[0], prefix[0]); !ok {
			t.Fatalf("event %q: no %q line", b, prefix[0])
		}
		if ev.data, ok = strings.CutPrefix(lines[1], prefix[1]); !ok {
			t.Fatalf("event %q: no %q line", b, prefix[1])
		}
		out = append(out, ev)
	}
	return out
}

func names(evs []sseEvent) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.event)
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func decode[T any](t *testing.T, data string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
	return v
}

func userText(text string) string {
	return fmt.Sprintf(`{"role":"user","content":%q,"content_type":"text"}`, text)
}

func chatBody(botID string, stream bool, messages ...string) string {
	return fmt.Sprintf(`{"bot_id":%q,"user_id":"u1","stream":%v,"additional_messages":[%s]}`, botID, stream, strings.Join(messages, ","))
}

// ---------------------------------------------------------------- chat

func TestChatCreateAndPoll(t *testing.T) {
	s := newTestSandbox(t)
	var created Chat
	call(t, s, "POST", "/v3/chat", chatBody("bot1", false, userText("What can you do?"))).ok(t, &created)
	want := Chat{ID: "1002", ConversationID: "1000", BotID: "bot1", CreatedAt: fixedNow.Unix(), Status: "in_progress", SectionID: "1001"}
	if !reflect.DeepEqual(created, want) {
		t.Fatalf("created chat:\n got %+v\nwant %+v", created, want)
	}
	q := "?conversation_id=" + created.ConversationID + "&chat_id=" + created.ID

	// Nothing to read while in progress.
	var msgs []Message
	call(t, s, "GET", "/v3/chat/message/list"+q, "").ok(t, &msgs)
	if len(msgs) != 0 {
		t.Fatalf("messages of an in_progress chat: %+v", msgs)
	}

	// One retrieve completes it, by GET (coze-go) and by POST (coze-js, cozepy).
	for _, method := range []string{"GET", "POST"} {
		var got Chat
		call(t, s, method, "/v3/chat/retrieve"+q, "").ok(t, &got)
		want.Status, want.CompletedAt = "completed", fixedNow.Unix()
		want.Usage = &Usage{InputCount: 16, OutputCount: 16, TokenCount: 32}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s retrieve:\n got %+v\nwant %+v", method, got, want)
		}
	}

	call(t, s, "GET", "/v3/chat/message/list"+q, "").ok(t, &msgs)
	wantMsgs := []Message{
		{ID: "1004", ConversationID: "1000", BotID: "bot1", ChatID: "1002", SectionID: "1001", Role: "assistant", Type: "answer",
			Content: "What can you do?", ContentType: "text", MetaData: map[string]string{}, CreatedAt: fixedNow.Unix(), UpdatedAt: fixedNow.Unix()},
		{ID: "1005", ConversationID: "1000", BotID: "bot1", ChatID: "1002", SectionID: "1001", Role: "assistant", Type: "verbose",
			Content: verboseFinish, ContentType: "text", MetaData: map[string]string{}, CreatedAt: fixedNow.Unix(), UpdatedAt: fixedNow.Unix()},
	}
	if !reflect.DeepEqual(msgs, wantMsgs) {
		t.Fatalf("chat messages:\n got %+v\nwant %+v", msgs, wantMsgs)
	}
	// The verbose content is JSON with the finish marker, as Coze sends it.
	if v := decode[map[string]any](t, msgs[1].Content); v["msg_type"] != "generate_answer_finish" {
		t.Fatalf("verbose content %s", msgs[1].Content)
	}

	// The wire keeps Coze's field names and sends last_error even without one.
	r := call(t, s, "GET", "/v3/chat/retrieve"+q, "")
	for _, key := range []string{`"last_error":{"code":0,"msg":""}`, `"usage":{"token_count":32,"output_count":16,"input_count":16}`, `"completed_at":`} {
		if !bytes.Contains(r.body, []byte(key)) {
			t.Errorf("retrieve body lacks %s: %s", key, r.body)
		}
	}
}

func TestChatStream(t *testing.T) {
	s := newTestSandbox(t)
	r := call(t, s, "POST", "/v3/chat", chatBody("bot1", true, userText("hello, sandbox")))
	if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("HTTP %d %q: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get(logid.Header) == "" {
		t.Fatal("stream without X-Tt-Logid")
	}
	evs := parseSSE(t, r.body, false)
	want := []string{
		"conversation.chat.created", "conversation.chat.in_progress",
		"conversation.message.delta", "conversation.message.delta", "conversation.message.delta", "conversation.message.delta",
		"conversation.message.completed", "conversation.message.completed", "conversation.chat.completed", "done",
	}
	if got := names(evs); !reflect.DeepEqual(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	for i, status := range map[int]string{0: "created", 1: "in_progress", 8: "completed"} {
		if c := decode[Chat](t, evs[i].data); c.Status != status || c.ID == "" || c.ConversationID == "" || c.BotID != "bot1" {
			t.Errorf("%s: %s", evs[i].event, evs[i].data)
		}
	}
	if c := decode[Chat](t, evs[8].data); c.Usage == nil || c.Usage.OutputCount != 14 || c.CompletedAt != fixedNow.Unix() {
		t.Errorf("chat.completed without usage or completed_at: %s", evs[8].data)
	}
	var text string
	for _, e := range evs[2:6] {
		m := decode[Message](t, e.data)
		if m.Type != "answer" || m.Role != "assistant" {
			t.Errorf("delta %s", e.data)
		}
		text += m.Content
	}
	answer := decode[Message](t, evs[6].data)
	if text != "hello, sandbox" || answer.Content != text || answer.Type != "answer" {
		t.Fatalf("deltas %q, completed answer %+v", text, answer)
	}
	if v := decode[Message](t, evs[7].data); v.Type != "verbose" {
		t.Errorf("second completed message is %s, want verbose", v.Type)
	}
	if evs[9].data != `"[DONE]"` {
		t.Errorf("done data %s", evs[9].data)
	}

	// A streamed chat is kept like a polled one.
	c := decode[Chat](t, evs[8].data)
	var got Chat
	call(t, s, "GET", "/v3/chat/retrieve?conversation_id="+c.ConversationID+"&chat_id="+c.ID, "").ok(t, &got)
	if got.Status != "completed" {
		t.Fatalf("retrieve after the stream: %+v", got)
	}
}

func TestDeltas(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"ab", []string{"a", "b"}},
		{"hello", []string{"h", "e", "l", "lo"}},
		{"你好世界！", []string{"你", "好", "世", "界！"}},
	} {
		if got := deltas(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("deltas(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// flushRecorder records, at every Flush, what was written since the last one.
type flushRecorder struct {
	header  http.Header
	pending bytes.Buffer
	flushes []string
}

func (f *flushRecorder) Header() http.Header         { return f.header }
func (f *flushRecorder) WriteHeader(int)             {}
func (f *flushRecorder) Write(p []byte) (int, error) { return f.pending.Write(p) }
func (f *flushRecorder) Flush() {
	f.flushes = append(f.flushes, f.pending.String())
	f.pending.Reset()
}

// Every stream flushes each event on its own: the headers first, then one
// flush per event, nothing left unflushed.
func TestStreamsFlushEachEvent(t *testing.T) {
	for _, tc := range []struct {
		name, path, body string
		withIDs          bool
		events           int
	}{
		{"chat", "/v3/chat", chatBody("bot1", true, userText("one two three")), false, 10},
		{"workflow stream_run", "/v1/workflow/stream_run", `{"workflow_id":"wf1","parameters":{"a":1}}`, true, 2},
		{"workflows chat", "/v1/workflows/chat", `{"workflow_id":"wf1","additional_messages":[` + userText("hi there") + `]}`, false, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSandbox(t)
			f := &flushRecorder{header: http.Header{}}
			s.ServeHTTP(f, httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body)))
			if f.pending.Len() != 0 {
				t.Fatalf("unflushed bytes at the end: %q", f.pending.String())
			}
			if len(f.flushes) != tc.events+1 || f.flushes[0] != "" {
				t.Fatalf("want the headers flushed, then %d events each flushed alone; flushes: %q", tc.events, f.flushes)
			}
			for i, chunk := range f.flushes[1:] {
				if evs := parseSSE(t, []byte(chunk), tc.withIDs); len(evs) != 1 {
					t.Fatalf("flush %d holds %d events: %q", i+1, len(evs), chunk)
				}
			}
		})
	}
}

// Over a real connection each event reaches the client before the sandbox
// writes the next: the sandbox waits, before every event after the first,
// until the client has read the previous one. Without flushing this would
// never finish.
func TestStreamReachesClientEventByEvent(t *testing.T) {
	s := newTestSandbox(t)
	read := make(chan string, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := true
	s.beforeEvent = func(event string) error {
		if first {
			first = false
			return nil
		}
		select {
		case <-read:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("the client never read the event before %s", event)
		}
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v3/chat", strings.NewReader(chatBody("bot1", true, userText("streaming works"))))
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	var got []string
	for {
		line, err := br.ReadString('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the stream after %v: %v", got, err)
		}
		if ev, ok := strings.CutPrefix(line, "event:"); ok {
			got = append(got, strings.TrimSpace(ev))
		}
		if strings.HasPrefix(line, "data:") {
			read <- got[len(got)-1]
		}
	}
	if len(got) != 10 || got[0] != "conversation.chat.created" || got[9] != "done" {
		t.Fatalf("events read one by one: %v", got)
	}
}

func TestChatUsesConversationHistory(t *testing.T) {
	s := newTestSandbox(t)
	var conv Conversation
	call(t, s, "POST", "/v1/conversation/create", `{"bot_id":"bot1","messages":[`+userText("first")+`]}`).ok(t, &conv)
	call(t, s, "POST", "/v1/conversation/message/create?conversation_id="+conv.ID, userText("from history")).ok(t, nil)
	// A chat without new messages answers the last user message of the history.
	r := call(t, s, "POST", "/v3/chat?conversation_id="+conv.ID, `{"bot_id":"bot1","stream":true}`)
	evs := parseSSE(t, r.body, false)
	if m := decode[Message](t, evs[len(evs)-4].data); m.Content != "from history" {
		t.Fatalf("answer %q, want the history's last user message", m.Content)
	}
	// After clearing, there is nothing to echo: the greeting.
	call(t, s, "POST", "/v1/conversations/"+conv.ID+"/clear", "").ok(t, nil)
	r = call(t, s, "POST", "/v3/chat?conversation_id="+conv.ID, `{"bot_id":"bot1","stream":true}`)
	evs = parseSSE(t, r.body, false)
	if m := decode[Message](t, evs[len(evs)-4].data); m.Content != greeting {
		t.Fatalf("answer after clear %q, want the greeting", m.Content)
	}
	// object_string messages are read for their text.
	obj, _ := json.Marshal([]objectItem{{Type: "text", Text: "look at"}, {Type: "image", FileURL: "https://example.com/a.png"}})
	r = call(t, s, "POST", "/v3/chat", fmt.Sprintf(`{"bot_id":"b","stream":true,"additional_messages":[{"role":"user","content":%q,"content_type":"object_string"}]}`, obj))
	evs = parseSSE(t, r.body, false)
	if m := decode[Message](t, evs[len(evs)-4].data); m.Content != "look at [image]" {
		t.Fatalf("answer to an object_string %q", m.Content)
	}
}

func TestChatCancel(t *testing.T) {
	s := newTestSandbox(t)
	var c Chat
	call(t, s, "POST", "/v3/chat", chatBody("bot1", false, userText("x"))).ok(t, &c)
	body := fmt.Sprintf(`{"conversation_id":%q,"chat_id":%q}`, c.ConversationID, c.ID)
	var canceled Chat
	call(t, s, "POST", "/v3/chat/cancel", body).ok(t, &canceled)
	if canceled.Status != "canceled" {
		t.Fatalf("cancel: %+v", canceled)
	}
	var got Chat
	call(t, s, "GET", "/v3/chat/retrieve?conversation_id="+c.ConversationID+"&chat_id="+c.ID, "").ok(t, &got)
	if got.Status != "canceled" {
		t.Fatalf("retrieve after cancel: %+v", got)
	}
	r := call(t, s, "POST", "/v3/chat/cancel", body)
	if r.status != 400 || *r.env.Code != codeNotCancelable {
		t.Fatalf("second cancel: HTTP %d %s", r.status, r.body)
	}
}

func TestChatToolCall(t *testing.T) {
	s := newTestSandbox(t)
	// Polled: requires_action, outputs, then completed with the output.
	var c Chat
	call(t, s, "POST", "/v3/chat", chatBody("bot1", false, userText(`/tool get_weather {"city":"Paris"}`))).ok(t, &c)
	q := "?conversation_id=" + c.ConversationID + "&chat_id=" + c.ID
	call(t, s, "POST", "/v3/chat/retrieve"+q, "").ok(t, &c)
	if c.Status != "requires_action" || c.RequiredAction == nil || len(c.RequiredAction.SubmitToolOutputs.ToolCalls) != 1 {
		t.Fatalf("chat after retrieve: %+v", c)
	}
	tc := c.RequiredAction.SubmitToolOutputs.ToolCalls[0]
	if tc.Type != "function" || tc.Function.Name != "get_weather" || tc.Function.Arguments != `{"city":"Paris"}` {
		t.Fatalf("tool call %+v", tc)
	}
	var msgs []Message
	call(t, s, "GET", "/v3/chat/message/list"+q, "").ok(t, &msgs)
	if len(msgs) != 1 || msgs[0].Type != "function_call" {
		t.Fatalf("messages awaiting the tool: %+v", msgs)
	}
	r := call(t, s, "POST", "/v3/chat/submit_tool_outputs"+q, `{"tool_outputs":[{"tool_call_id":"nope","output":"x"}],"stream":false}`)
	if r.status != 400 || !strings.Contains(r.env.Msg, "not a pending tool call") {
		t.Fatalf("unknown tool_call_id: HTTP %d %s", r.status, r.body)
	}
	call(t, s, "POST", "/v3/chat/submit_tool_outputs"+q, fmt.Sprintf(`{"tool_outputs":[{"tool_call_id":%q,"output":"sunny, 21°C"}],"stream":false}`, tc.ID)).ok(t, &c)
	if c.Status != "in_progress" {
		t.Fatalf("after the outputs: %+v", c)
	}
	call(t, s, "GET", "/v3/chat/retrieve"+q, "").ok(t, &c)
	call(t, s, "GET", "/v3/chat/message/list"+q, "").ok(t, &msgs)
	if c.Status != "completed" || len(msgs) != 3 || msgs[1].Type != "answer" || msgs[1].Content != "sunny, 21°C" {
		t.Fatalf("completed chat %+v, messages %+v", c, msgs)
	}

	// Streamed: the chat stream ends at requires_action; the outputs stream the answer.
	r = call(t, s, "POST", "/v3/chat", chatBody("bot1", true, userText("/tool lookup")))
	evs := parseSSE(t, r.body, false)
	if got := names(evs); !reflect.DeepEqual(got, []string{"conversation.chat.created", "conversation.chat.in_progress",
		"conversation.message.completed", "conversation.chat.requires_action", "done"}) {
		t.Fatalf("tool stream events %v", got)
	}
	c = decode[Chat](t, evs[3].data)
	tc = c.RequiredAction.SubmitToolOutputs.ToolCalls[0]
	if tc.Function.Arguments != `{"input":""}` {
		t.Fatalf("arguments of a call without JSON: %s", tc.Function.Arguments)
	}
	r = call(t, s, "POST", "/v3/chat/submit_tool_outputs?conversation_id="+c.ConversationID+"&chat_id="+c.ID,
		fmt.Sprintf(`{"tool_outputs":[{"tool_call_id":%q,"output":"42"}],"stream":true}`, tc.ID))
	evs = parseSSE(t, r.body, false)
	if got := names(evs); !reflect.DeepEqual(got, []string{"conversation.chat.in_progress", "conversation.message.delta", "conversation.message.delta",
		"conversation.message.completed", "conversation.message.completed", "conversation.chat.completed", "done"}) {
		t.Fatalf("outputs stream events %v", got)
	}
	if m := decode[Message](t, evs[3].data); m.Content != "42" {
		t.Fatalf("answer after the outputs %q", m.Content)
	}
}

// ---------------------------------------------------------------- conversations

func TestConversations(t *testing.T) {
	s := newTestSandbox(t)
	alice, bob := "X-Cozeauth-Account-Id: 7001", "X-Cozeauth-Account-Id: 7002"
	var c1 Conversation
	call(t, s, "POST", "/v1/conversation/create", `{"bot_id":"bot1","meta_data":{"k":"v"},"messages":[`+userText("hi")+`]}`, alice).ok(t, &c1)
	want := Conversation{ID: "1000", CreatedAt: fixedNow.Unix(), MetaData: map[string]string{"k": "v"}, LastSectionID: "1001"}
	if !reflect.DeepEqual(c1, want) {
		t.Fatalf("created %+v, want %+v", c1, want)
	}
	var got Conversation
	call(t, s, "GET", "/v1/conversation/retrieve?conversation_id="+c1.ID, "", alice).ok(t, &got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("retrieved %+v", got)
	}
	// The workflow flavour of the route makes the same kind.
	call(t, s, "POST", "/v1/workflow/conversation/create", `{"bot_id":"bot9"}`, alice).ok(t, &got)
	if got.ID == "" || got.LastSectionID == "" {
		t.Fatalf("workflow conversation %+v", got)
	}
	// An empty body makes a conversation too, with meta_data {}.
	r := call(t, s, "POST", "/v1/conversation/create", "", alice)
	r.ok(t, &got)
	if !bytes.Contains(r.body, []byte(`"meta_data":{}`)) {
		t.Fatalf("empty conversation: %s", r.body)
	}
	var ids []string
	for range 3 {
		var c Conversation
		call(t, s, "POST", "/v1/conversation/create", `{"bot_id":"bot1"}`, alice).ok(t, &c)
		ids = append(ids, c.ID)
	}
	call(t, s, "POST", "/v1/conversation/create", `{"bot_id":"bot1"}`, bob).ok(t, nil)

	// Listing: alice's conversations with bot1, newest first, paged.
	type page struct {
		Conversations []Conversation `json:"conversations"`
		HasMore       bool           `json:"has_more"`
	}
	var p page
	call(t, s, "GET", "/v1/conversations?bot_id=bot1&page_size=2", "", alice).ok(t, &p)
	if len(p.Conversations) != 2 || p.Conversations[0].ID != ids[2] || p.Conversations[1].ID != ids[1] || !p.HasMore {
		t.Fatalf("page 1: %+v", p)
	}
	call(t, s, "GET", "/v1/conversations?bot_id=bot1&page_size=2&page_num=2", "", alice).ok(t, &p)
	if len(p.Conversations) != 2 || p.Conversations[0].ID != ids[0] || p.Conversations[1].ID != c1.ID || p.HasMore {
		t.Fatalf("page 2: %+v", p)
	}
	call(t, s, "GET", "/v1/conversations?bot_id=bot1", "", bob).ok(t, &p)
	if len(p.Conversations) != 1 {
		t.Fatalf("bob's conversations: %+v", p)
	}

	// A conversation stays with its account.
	for _, tc := range []struct{ method, target, body string }{
		{"GET", "/v1/conversation/retrieve?conversation_id=" + c1.ID, ""},
		{"POST", "/v1/conversation/message/list?conversation_id=" + c1.ID, ""},
		{"POST", "/v1/conversation/message/create?conversation_id=" + c1.ID, userText("x")},
		{"POST", "/v3/chat?conversation_id=" + c1.ID, chatBody("bot1", true, userText("x"))},
		{"POST", "/v1/conversations/" + c1.ID + "/clear", ""},
	} {
		r := call(t, s, tc.method, tc.target, tc.body, bob)
		if r.status != 403 || r.env.Code == nil || *r.env.Code != 4101 || !strings.Contains(r.env.Msg, "another account") {
			t.Errorf("bob: %s %s: HTTP %d %s", tc.method, tc.target, r.status, r.body)
		}
	}
}

func TestMessages(t *testing.T) {
	s := newTestSandbox(t)
	var conv Conversation
	call(t, s, "POST", "/v1/conversation/create", `{"bot_id":"bot1"}`).ok(t, &conv)
	var ids []string
	for i := range 5 {
		var m Message
		body := fmt.Sprintf(`{"role":"user","content":"m%d","content_type":"text","meta_data":{"i":"%d"}}`, i, i)
		call(t, s, "POST", "/v1/conversation/message/create?conversation_id="+conv.ID, body).ok(t, &m)
		if m.Type != "question" || m.Content != fmt.Sprintf("m%d", i) || m.ConversationID != conv.ID || m.MetaData["i"] != fmt.Sprint(i) {
			t.Fatalf("created %+v", m)
		}
		ids = append(ids, m.ID)
	}
	var m Message
	call(t, s, "POST", "/v1/conversation/message/create?conversation_id="+conv.ID, `{"role":"assistant","content":"a","content_type":"text"}`).ok(t, &m)
	if m.Type != "answer" {
		t.Fatalf("an assistant message is an answer: %+v", m)
	}
	ids = append(ids, m.ID)
	var got Message
	call(t, s, "GET", "/v1/conversation/message/retrieve?conversation_id="+conv.ID+"&message_id="+ids[2], "").ok(t, &got)
	if got.Content != "m2" {
		t.Fatalf("retrieved %+v", got)
	}

	rev := func(in []string) []string {
		out := make([]string, len(in))
		for i, v := range in {
			out[len(in)-1-i] = v
		}
		return out
	}
	for _, tc := range []struct {
		name, body string
		want       []string
		hasMore    bool
	}{
		{"default desc", ``, rev(ids), false},
		{"asc", `{"order":"asc"}`, ids, false},
		{"desc limit", `{"limit":2}`, []string{ids[5], ids[4]}, true},
		{"desc after (the next page, as coze-go pages)", `{"limit":2,"after_id":"` + ids[4] + `"}`, []string{ids[3], ids[2]}, true},
		{"desc last page", `{"limit":2,"after_id":"` + ids[2] + `"}`, []string{ids[1], ids[0]}, false},
		{"asc before", `{"order":"asc","limit":2,"before_id":"` + ids[4] + `"}`, []string{ids[2], ids[3]}, true},
		{"asc before the start", `{"order":"asc","before_id":"` + ids[0] + `"}`, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, "POST", "/v1/conversation/message/list?conversation_id="+conv.ID, tc.body)
			var data []Message
			r.ok(t, &data)
			var gotIDs []string
			for _, m := range data {
				gotIDs = append(gotIDs, m.ID)
			}
			if !reflect.DeepEqual(gotIDs, tc.want) {
				t.Fatalf("ids %v, want %v", gotIDs, tc.want)
			}
			first, last := "", ""
			if len(tc.want) > 0 {
				first, last = tc.want[0], tc.want[len(tc.want)-1]
			}
			// first_id, last_id and has_more sit beside data, as coze-go and cozepy read them.
			if string(r.flat["first_id"]) != mustJSON(t, first) || string(r.flat["last_id"]) != mustJSON(t, last) ||
				string(r.flat["has_more"]) != fmt.Sprint(tc.hasMore) {
				t.Fatalf("first_id %s last_id %s has_more %s", r.flat["first_id"], r.flat["last_id"], r.flat["has_more"])
			}
		})
	}
	// chat_id keeps one chat's messages.
	var c Chat
	call(t, s, "POST", "/v3/chat?conversation_id="+conv.ID, chatBody("bot1", false, userText("q"))).ok(t, &c)
	call(t, s, "GET", "/v3/chat/retrieve?conversation_id="+conv.ID+"&chat_id="+c.ID, "").ok(t, nil)
	var data []Message
	call(t, s, "POST", "/v1/conversation/message/list?conversation_id="+conv.ID, `{"order":"asc","chat_id":"`+c.ID+`"}`).ok(t, &data)
	if len(data) != 3 || data[0].Type != "question" || data[1].Type != "answer" || data[2].Type != "verbose" {
		t.Fatalf("one chat's messages: %+v", data)
	}
}

// ---------------------------------------------------------------- workflows

func TestWorkflowRun(t *testing.T) {
	s := newTestSandbox(t)
	r := call(t, s, "POST", "/v1/workflow/run", `{"workflow_id":"wf1","parameters":{"name":"Ada","n":3,"tags":["x"]}}`)
	r.ok(t, nil)
	var data string
	if err := json.Unmarshal(r.env.Data, &data); err != nil {
		t.Fatalf("data must be a JSON string: %s", r.body)
	}
	if want := `{"n":3,"name":"Ada","tags":["x"]}`; data != want {
		t.Fatalf("data %s, want %s", data, want)
	}
	for _, key := range []string{"debug_url", "execute_id", "usage"} {
		if _, ok := r.flat[key]; !ok {
			t.Errorf("run result lacks %s: %s", key, r.body)
		}
	}
	exec := decode[string](t, string(r.flat["execute_id"]))

	// Asynchronous: only the execute_id; the output is in run_histories.
	r = call(t, s, "POST", "/v1/workflow/run", `{"workflow_id":"wf1","is_async":true,"parameters":{"a":"b"}}`)
	r.ok(t, nil)
	if _, ok := r.flat["data"]; ok {
		t.Fatalf("async run with data: %s", r.body)
	}
	async := decode[string](t, string(r.flat["execute_id"]))
	var hist []runHistory
	call(t, s, "GET", "/v1/workflows/wf1/run_histories/"+async, "").ok(t, &hist)
	if len(hist) != 1 || hist[0].ExecuteStatus != "Success" || hist[0].Output != `{"a":"b"}` || hist[0].RunMode != runModeAsync {
		t.Fatalf("history %+v", hist)
	}
	call(t, s, "GET", "/v1/workflows/wf1/run_histories/"+exec, "").ok(t, &hist)
	if hist[0].RunMode != runModeSync {
		t.Fatalf("history of a sync run %+v", hist)
	}
	if r := call(t, s, "GET", "/v1/workflows/wf2/run_histories/"+exec, ""); r.status != 404 {
		t.Fatalf("history under another workflow: HTTP %d %s", r.status, r.body)
	}
}

func TestWorkflowStreamRun(t *testing.T) {
	s := newTestSandbox(t)
	r := call(t, s, "POST", "/v1/workflow/stream_run", `{"workflow_id":"wf1","parameters":{"q":"hi"}}`)
	evs := parseSSE(t, r.body, true)
	if len(evs) != 2 || evs[0].id != "0" || evs[0].event != "Message" || evs[1].id != "1" || evs[1].event != "Done" {
		t.Fatalf("events %+v", evs)
	}
	msg := decode[workflowMessage](t, evs[0].data)
	if msg.Content != `{"q":"hi"}` || msg.NodeTitle != "End" || !msg.NodeIsFinish || msg.NodeSeqID != "0" || msg.Usage == nil {
		t.Fatalf("message %s", evs[0].data)
	}
	// coze-go decodes Done's data as JSON.
	if evs[1].data != `{"debug_url":""}` {
		t.Fatalf("done data %s", evs[1].data)
	}
}

func TestWorkflowChat(t *testing.T) {
	s := newTestSandbox(t)
	var conv Conversation
	call(t, s, "POST", "/v1/conversation/create", `{}`).ok(t, &conv)
	r := call(t, s, "POST", "/v1/workflows/chat", `{"workflow_id":"wf1","conversation_id":"`+conv.ID+`","additional_messages":[`+userText("flow")+`],"parameters":{}}`)
	evs := parseSSE(t, r.body, false)
	if evs[0].event != "conversation.chat.created" || evs[len(evs)-1].event != "done" {
		t.Fatalf("events %v", names(evs))
	}
	if c := decode[Chat](t, evs[0].data); c.ConversationID != conv.ID {
		t.Fatalf("chat in conversation %s, want %s", c.ConversationID, conv.ID)
	}
	if m := decode[Message](t, evs[len(evs)-4].data); m.Content != "flow" {
		t.Fatalf("answer %q", m.Content)
	}
}

// ---------------------------------------------------------------- errors

func TestBadRequests(t *testing.T) {
	s := newTestSandbox(t)
	var conv Conversation
	call(t, s, "POST", "/v1/conversation/create", `{"bot_id":"bot1"}`).ok(t, &conv)
	var done Chat
	call(t, s, "POST", "/v3/chat?conversation_id="+conv.ID, chatBody("bot1", false, userText("x"))).ok(t, &done)
	cq := "?conversation_id=" + conv.ID + "&chat_id=" + done.ID
	call(t, s, "GET", "/v3/chat/retrieve"+cq, "").ok(t, nil)

	for _, tc := range []struct {
		name, method, target, body string
		status, code               int
		msg                        string
	}{
		{"chat without body", "POST", "/v3/chat", "", 400, 4000, "must be a JSON object"},
		{"chat malformed JSON", "POST", "/v3/chat", `{"bot_id":`, 400, 4000, "malformed JSON"},
		{"chat body an array", "POST", "/v3/chat", `[]`, 400, 4000, "expected a JSON object"},
		{"chat without bot_id", "POST", "/v3/chat", `{"additional_messages":[]}`, 400, 4000, "bot_id is required"},
		{"chat bot_id a number", "POST", "/v3/chat", `{"bot_id":1}`, 400, 4000, `field "bot_id" must be a string`},
		{"chat without role", "POST", "/v3/chat", chatBody("b", true, `{"content":"x"}`), 400, 4000, "additional_messages[0].role is required"},
		{"chat bad role", "POST", "/v3/chat", chatBody("b", true, userText("ok"), `{"role":"system","content":"x"}`), 400, 4000, `additional_messages[1].role must be user or assistant, not "system"`},
		{"chat bad content_type", "POST", "/v3/chat", chatBody("b", true, `{"role":"user","content":"x","content_type":"html"}`), 400, 4000, "content_type must be"},
		{"chat bad type", "POST", "/v3/chat", chatBody("b", true, `{"role":"user","content":"x","type":"shout"}`), 400, 4000, `type "shout" is not a message type`},
		{"chat empty content", "POST", "/v3/chat", chatBody("b", true, `{"role":"user","content":""}`), 400, 4000, "content is required"},
		{"chat object_string not an array", "POST", "/v3/chat", chatBody("b", true, `{"role":"user","content":"hi","content_type":"object_string"}`), 400, 4000, "object_string content must be a JSON array"},
		{"chat object_string image without file", "POST", "/v3/chat", chatBody("b", true, `{"role":"user","content":"[{\"type\":\"image\"}]","content_type":"object_string"}`), 400, 4000, "needs file_id or file_url"},
		{"chat content an object", "POST", "/v3/chat", chatBody("b", true, `{"role":"user","content":{"a":1}}`), 400, 4000, `field "additional_messages.content" must be a string`},
		{"chat non-stream without history", "POST", "/v3/chat", `{"bot_id":"b","stream":false,"auto_save_history":false}`, 400, 4000, "auto_save_history must be true"},
		{"chat unknown conversation", "POST", "/v3/chat?conversation_id=42", chatBody("b", true), 404, 4200, "conversation 42 not found"},
		{"retrieve without conversation", "GET", "/v3/chat/retrieve?chat_id=1", "", 400, 4000, "conversation_id is required"},
		{"retrieve without chat", "GET", "/v3/chat/retrieve?conversation_id=" + conv.ID, "", 400, 4000, "chat_id is required"},
		{"retrieve unknown chat", "GET", "/v3/chat/retrieve?conversation_id=" + conv.ID + "&chat_id=9", "", 404, 4200, "chat 9 not found"},
		{"message list unknown chat", "GET", "/v3/chat/message/list?conversation_id=" + conv.ID + "&chat_id=9", "", 404, 4200, "chat 9 not found"},
		{"cancel completed", "POST", "/v3/chat/cancel", `{"conversation_id":"` + conv.ID + `","chat_id":"` + done.ID + `"}`, 400, 4104, "cannot be canceled"},
		{"cancel without body", "POST", "/v3/chat/cancel", "", 400, 4000, "must be a JSON object"},
		{"tool outputs missing", "POST", "/v3/chat/submit_tool_outputs" + cq, `{"stream":false}`, 400, 4000, "tool_outputs is required"},
		{"tool outputs for a chat without tools", "POST", "/v3/chat/submit_tool_outputs" + cq, `{"tool_outputs":[{"tool_call_id":"1","output":"x"}]}`, 400, 4000, "does not await tool outputs"},
		{"conversation retrieve without id", "GET", "/v1/conversation/retrieve", "", 400, 4000, "conversation_id is required"},
		{"conversation retrieve unknown", "GET", "/v1/conversation/retrieve?conversation_id=1", "", 404, 4200, "conversation 1 not found"},
		{"conversation create bad message", "POST", "/v1/conversation/create", `{"messages":[{"role":"bot","content":"x"}]}`, 400, 4000, "messages[0].role must be"},
		{"conversations without bot_id", "GET", "/v1/conversations", "", 400, 4000, "bot_id is required"},
		{"conversations page_size too big", "GET", "/v1/conversations?bot_id=b&page_size=51", "", 400, 4000, "page_size must be an integer from 1 to 50"},
		{"conversations page_num zero", "GET", "/v1/conversations?bot_id=b&page_num=0", "", 400, 4000, "page_num must be"},
		{"clear unknown", "POST", "/v1/conversations/77/clear", "", 404, 4200, "conversation 77 not found"},
		{"message create without role", "POST", "/v1/conversation/message/create?conversation_id=" + conv.ID, `{"content":"x"}`, 400, 4000, "message.role is required"},
		{"message create unknown conversation", "POST", "/v1/conversation/message/create?conversation_id=5", userText("x"), 404, 4200, "conversation 5 not found"},
		{"message list bad order", "POST", "/v1/conversation/message/list?conversation_id=" + conv.ID, `{"order":"up"}`, 400, 4000, "order must be asc or desc"},
		{"message list bad limit", "POST", "/v1/conversation/message/list?conversation_id=" + conv.ID, `{"limit":500}`, 400, 4000, "limit must be from 1 to 50"},
		{"message list before and after", "POST", "/v1/conversation/message/list?conversation_id=" + conv.ID, `{"before_id":"1","after_id":"2"}`, 400, 4000, "not both"},
		{"message list unknown after_id", "POST", "/v1/conversation/message/list?conversation_id=" + conv.ID, `{"after_id":"2"}`, 404, 4200, "after_id 2 is not a message"},
		{"message retrieve unknown", "GET", "/v1/conversation/message/retrieve?conversation_id=" + conv.ID + "&message_id=3", "", 404, 4200, "message 3 not found"},
		{"workflow run without id", "POST", "/v1/workflow/run", `{"parameters":{}}`, 400, 4000, "workflow_id is required"},
		{"workflow parameters not an object", "POST", "/v1/workflow/run", `{"workflow_id":"w","parameters":[1]}`, 400, 4000, `field "parameters" must be an object`},
		{"stream_run without body", "POST", "/v1/workflow/stream_run", "", 400, 4000, "must be a JSON object"},
		{"history unknown", "GET", "/v1/workflows/w/run_histories/1", "", 404, 4200, "execution 1 of workflow w not found"},
		{"workflows chat without messages", "POST", "/v1/workflows/chat", `{"workflow_id":"w"}`, 400, 4000, "additional_messages is required"},
		{"workflows chat without workflow", "POST", "/v1/workflows/chat", `{"additional_messages":[` + userText("x") + `]}`, 400, 4000, "workflow_id is required"},
		{"wrong method", "GET", "/v3/chat", "", 400, 4000, "GET /v3/chat: method not allowed, use POST"},
		{"wrong method clear", "GET", "/v1/conversations/1/clear", "", 400, 4000, "method not allowed"},
		{"unknown route", "POST", "/v1/bot/create", "{}", 404, 4200, "does not serve POST /v1/bot/create"},
		{"body too large", "POST", "/v3/chat", `{"bot_id":"` + strings.Repeat("x", maxBody) + `"}`, 400, 4000, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := call(t, s, tc.method, tc.target, tc.body)
			if r.status != tc.status || r.env.Code == nil || *r.env.Code != tc.code || !strings.Contains(r.env.Msg, tc.msg) {
				t.Fatalf("want HTTP %d code %d msg containing %q; got HTTP %d %s", tc.status, tc.code, tc.msg, r.status, r.body)
			}
			if r.env.Detail.LogID == "" || r.header.Get(logid.Header) != r.env.Detail.LogID {
				t.Fatalf("error without a matching log ID: %s (header %q)", r.body, r.header.Get(logid.Header))
			}
		})
	}
}

// The log ID the server's middleware made is the one the sandbox answers with.
func TestKeepsTheServersLogID(t *testing.T) {
	s := newTestSandbox(t)
	req := httptest.NewRequest("GET", "/v1/conversation/retrieve", nil)
	req = req.WithContext(logid.With(req.Context(), "LOG123"))
	rec := httptest.NewRecorder()
	rec.Header().Set(logid.Header, "LOG123")
	s.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"logid":"LOG123"`) || rec.Header().Get(logid.Header) != "LOG123" {
		t.Fatalf("log ID not kept: %s %v", rec.Body, rec.Header())
	}
}

// Beyond MaxConversations the oldest conversations are forgotten with their
// chats.
func TestStateIsBounded(t *testing.T) {
	s := newTestSandbox(t, func(o *Options) { o.MaxConversations = 3 })
	var chats []Chat
	for i := range 5 {
		var c Chat
		call(t, s, "POST", "/v3/chat", chatBody("bot1", false, userText(fmt.Sprint(i)))).ok(t, &c)
		chats = append(chats, c)
	}
	for i, c := range chats {
		r := call(t, s, "GET", "/v3/chat/retrieve?conversation_id="+c.ConversationID+"&chat_id="+c.ID, "")
		if kept := r.status == 200; kept != (i >= 2) {
			t.Errorf("chat %d: HTTP %d %s", i, r.status, r.body)
		}
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if len(s.st.convs) != 3 || len(s.st.chats) != 3 || s.st.convOrder.Len() != 3 {
		t.Fatalf("kept %d conversations, %d chats", len(s.st.convs), len(s.st.chats))
	}
}

// A conversation keeps its newest messages and chats.
func TestConversationIsBounded(t *testing.T) {
	s := newTestSandbox(t)
	var conv Conversation
	call(t, s, "POST", "/v1/conversation/create", `{}`).ok(t, &conv)
	const n = 200 // 600 messages
	for i := range n {
		if r := call(t, s, "POST", "/v3/chat?conversation_id="+conv.ID, chatBody("b", true, userText(fmt.Sprint(i)))); r.status != 200 {
			t.Fatalf("chat %d: HTTP %d %s", i, r.status, r.body)
		}
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	c := s.st.convs[conv.ID]
	if len(c.chats) != maxChatsPerConversation || len(s.st.chats) != maxChatsPerConversation || len(c.messages) != maxMessagesPerConversation {
		t.Fatalf("kept %d chats (%d indexed), %d messages", len(c.chats), len(s.st.chats), len(c.messages))
	}
	if last := c.messages[len(c.messages)-2]; last.Content != fmt.Sprint(n-1) {
		t.Fatalf("newest answer kept is %q", last.Content)
	}
}

// Every route the sandbox serves is a catalog route: the gateway refuses the
// others before they reach it.
func TestRoutesAreInTheCatalog(t *testing.T) {
	catalog := map[string]string{}
	for _, p := range permission.Default().All() {
		for _, r := range p.Routes {
			catalog[r.Pattern()] = p.Name
		}
	}
	served := []string{"POST /v1/conversations/{conversation_id}/clear", "GET /v1/workflows/{workflow_id}/run_histories/{execute_id}"}
	for path, rt := range routes {
		for _, m := range rt.methods {
			served = append(served, m+" "+path)
		}
	}
	for _, pattern := range served {
		if _, ok := catalog[pattern]; !ok {
			t.Errorf("the sandbox serves %s, which is not in the permission catalog", pattern)
		}
	}
}

// Chats, polls and listings from many goroutines, with eviction under way,
// keep the state consistent (run with -race).
func TestConcurrentUse(t *testing.T) {
	s := newTestSandbox(t, func(o *Options) { o.MaxConversations = 8 })
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				text := fmt.Sprintf("g%d-%d", g, i)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest("POST", "/v3/chat", strings.NewReader(chatBody("bot1", i%2 == 0, userText(text)))))
				if rec.Code != 200 {
					errs <- fmt.Sprintf("chat %s: HTTP %d %s", text, rec.Code, rec.Body)
					return
				}
				rec = httptest.NewRecorder()
				s.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/conversations?bot_id=bot1", nil))
				if rec.Code != 200 {
					errs <- fmt.Sprintf("list: HTTP %d %s", rec.Code, rec.Body)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	s.st.mu.Lock()
	defer s.st.mu.Unlock()
	if len(s.st.convs) != 8 || s.st.convOrder.Len() != 8 || len(s.st.chats) != 8 {
		t.Fatalf("after the storm: %d conversations (%d in order), %d chats", len(s.st.convs), s.st.convOrder.Len(), len(s.st.chats))
	}
}
