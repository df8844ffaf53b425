package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// The chat events of a stream (coze-go ChatEventType).
const (
	eventChatCreated        = "conversation.chat.created"
	eventChatInProgress     = "conversation.chat.in_progress"
	eventMessageDelta       = "conversation.message.delta"
	eventMessageCompleted   = "conversation.message.completed"
	eventChatCompleted      = "conversation.chat.completed"
	eventChatRequiresAction = "conversation.chat.requires_action"
	eventDone               = "done"
)

// doneData is the data of the done event, as Coze sends it: a JSON string.
const doneData = `"[DONE]"`

// greeting answers a chat without any user message to echo.
const greeting = "Hello from the cozeauth sandbox: send me a message and I answer with the same text."

// toolCommand starts a user message that makes the sandbox bot ask for a tool
// output: "/tool NAME [JSON arguments]". The chat then requires action; the
// output submitted with /v3/chat/submit_tool_outputs becomes the answer.
const toolCommand = "/tool "

// maxAdditionalMessages is Coze's limit on additional_messages.
const maxAdditionalMessages = 100

// inMessage is a message a caller sends (additional_messages, conversation
// messages).
type inMessage struct {
	Role        string            `json:"role"`
	Type        string            `json:"type"`
	Content     string            `json:"content"`
	ContentType string            `json:"content_type"`
	MetaData    map[string]string `json:"meta_data"`
}

// objectItem is one entry of an object_string content.
type objectItem struct {
	Type    string `json:"type"`
	Text    string `json:"text"`
	FileID  string `json:"file_id"`
	FileURL string `json:"file_url"`
}

// checkMessage validates m (field names the caller's, e.g.
// "additional_messages[2]") and fills its defaults.
func checkMessage(field string, m *inMessage) error {
	switch m.Role {
	case "user", "assistant":
	case "":
		return badRequest("%s.role is required (user or assistant)", field)
	default:
		return badRequest("%s.role must be user or assistant, not %q", field, m.Role)
	}
	switch m.Type {
	case "":
		m.Type = "question"
		if m.Role == "assistant" {
			m.Type = "answer"
		}
	case "question", "answer", "function_call", "tool_output", "tool_response", "follow_up", "verbose":
	default:
		return badRequest("%s.type %q is not a message type", field, m.Type)
	}
	switch m.ContentType {
	case "":
		m.ContentType = "text"
	case "text", "card":
	case "object_string":
		if _, err := objectItems(m.Content); err != nil {
			return badRequest("%s.content: %v", field, err)
		}
	default:
		return badRequest("%s.content_type must be text, object_string or card, not %q", field, m.ContentType)
	}
	if m.Content == "" {
		return badRequest("%s.content is required", field)
	}
	return nil
}

// objectItems parses an object_string content: a JSON array of items.
func objectItems(content string) ([]objectItem, error) {
	var items []objectItem
	if err := json.Unmarshal([]byte(content), &items); err != nil {
		return nil, fmt.Errorf("an object_string content must be a JSON array of {type, text|file_id|file_url}: %s", jsonProblem(err))
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("an object_string content must not be empty")
	}
	for i, it := range items {
		switch it.Type {
		case "text":
			if it.Text == "" {
				return nil, fmt.Errorf("item %d: a text item needs text", i)
			}
		case "file", "image", "audio":
			if it.FileID == "" && it.FileURL == "" {
				return nil, fmt.Errorf("item %d: a %s item needs file_id or file_url", i, it.Type)
			}
		default:
			return nil, fmt.Errorf("item %d: type must be text, file, image or audio, not %q", i, it.Type)
		}
	}
	return items, nil
}

// textOf is what the bot reads of a message: its text, or for an
// object_string the text items (files and images named by kind).
func textOf(m *Message) string {
	if m.ContentType != "object_string" {
		return m.Content
	}
	items, err := objectItems(m.Content)
	if err != nil {
		return m.Content
	}
	var parts []string
	for _, it := range items {
		if it.Type == "text" {
			parts = append(parts, it.Text)
		} else {
			parts = append(parts, "["+it.Type+"]")
		}
	}
	return strings.Join(parts, " ")
}

// chatRequest is the body of POST /v3/chat (coze-go CreateChatsReq).
type chatRequest struct {
	BotID              string            `json:"bot_id"`
	UserID             string            `json:"user_id"`
	ConversationID     string            `json:"conversation_id"`
	AdditionalMessages []inMessage       `json:"additional_messages"`
	Stream             bool              `json:"stream"`
	AutoSaveHistory    *bool             `json:"auto_save_history"`
	MetaData           map[string]string `json:"meta_data"`
	CustomVariables    map[string]string `json:"custom_variables"`
	Parameters         map[string]any    `json:"parameters"`
}

// checkMessages validates additional messages.
func checkMessages(ms []inMessage) error {
	if len(ms) > maxAdditionalMessages {
		return badRequest("additional_messages holds %d messages; at most %d", len(ms), maxAdditionalMessages)
	}
	for i := range ms {
		if err := checkMessage(fmt.Sprintf("additional_messages[%d]", i), &ms[i]); err != nil {
			return err
		}
	}
	return nil
}

// chatCreate answers POST /v3/chat: a stream of events, or the chat
// in_progress (it completes on the next retrieve).
func (s *Sandbox) chatCreate(w http.ResponseWriter, r *http.Request) error {
	var req chatRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if err := required("bot_id", req.BotID); err != nil {
		return err
	}
	if err := checkMessages(req.AdditionalMessages); err != nil {
		return err
	}
	save := req.AutoSaveHistory == nil || *req.AutoSaveHistory
	if !req.Stream && !save {
		// As Coze: a non-stream chat is read back from the history.
		return badRequest("auto_save_history must be true when stream is false")
	}
	ch, err := s.startChat(r, req.BotID, param(r, "conversation_id", req.ConversationID), req.AdditionalMessages, req.MetaData, save)
	if err != nil {
		return err
	}
	if !req.Stream {
		s.st.mu.Lock()
		view := ch.Chat
		s.st.mu.Unlock()
		s.writeData(w, r, view)
		return nil
	}
	s.streamChat(w, ch)
	return nil
}

// startChat records a new chat in_progress in the given conversation (or a
// new one) with the caller's messages.
func (s *Sandbox) startChat(r *http.Request, botID, conversationID string, msgs []inMessage, meta map[string]string, save bool) (*chat, error) {
	who := owner(r)
	now := s.now().Unix()
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	var c *conversation
	if conversationID != "" {
		var err error
		if c, err = st.conversationFor(conversationID, who); err != nil {
			return nil, err
		}
	} else {
		c = s.newConversation(botID, who, nil, now)
	}
	ch := &chat{
		Chat: Chat{
			ID: s.newID(), ConversationID: c.ID, BotID: botID, CreatedAt: now,
			MetaData: meta, Status: statusInProgress, SectionID: c.LastSectionID,
		},
		conv: c,
		save: save,
	}
	var saved []*Message
	for i := range msgs {
		m := s.message(c, ch, &msgs[i], now)
		if m.Role == "user" {
			ch.question = textOf(m)
		}
		saved = append(saved, m)
	}
	if ch.question == "" {
		// No new user message: the bot answers the last one of the history
		// since the conversation was last cleared.
		for i := len(c.messages) - 1; i >= 0 && c.messages[i].SectionID == c.LastSectionID; i-- {
			if c.messages[i].Role == "user" {
				ch.question = textOf(c.messages[i])
				break
			}
		}
	}
	if save {
		c.appendMessages(saved...)
	}
	ch.input = utf8.RuneCountInString(ch.question)
	st.addChat(ch)
	return ch, nil
}

// newConversation stores a new conversation. The caller holds mu.
func (s *Sandbox) newConversation(botID, who string, meta map[string]string, now int64) *conversation {
	c := &conversation{
		Conversation: Conversation{ID: s.newID(), CreatedAt: now, MetaData: cloneMeta(meta), LastSectionID: s.newID()},
		botID:        botID,
		owner:        who,
	}
	s.st.addConversation(c)
	return c
}

// message makes a stored message from a caller's. ch may be nil.
func (s *Sandbox) message(c *conversation, ch *chat, in *inMessage, now int64) *Message {
	m := &Message{
		ID: s.newID(), ConversationID: c.ID, BotID: c.botID, SectionID: c.LastSectionID,
		Role: in.Role, Type: in.Type, Content: in.Content, ContentType: in.ContentType,
		MetaData: cloneMeta(in.MetaData), CreatedAt: now, UpdatedAt: now,
	}
	if ch != nil {
		m.ChatID, m.BotID = ch.ID, ch.BotID
	}
	return m
}

// botMessage is a message of the bot in ch.
func (s *Sandbox) botMessage(ch *chat, typ, content string, now int64) *Message {
	return &Message{
		ID: s.newID(), ConversationID: ch.ConversationID, BotID: ch.BotID, ChatID: ch.ID, SectionID: ch.SectionID,
		Role: "assistant", Type: typ, Content: content, ContentType: "text",
		MetaData: map[string]string{}, CreatedAt: now, UpdatedAt: now,
	}
}

// verboseFinish is the verbose message Coze sends after the answers.
const verboseFinish = `{"msg_type":"generate_answer_finish","data":"{\"finish_reason\":0,\"FinData\":\"\"}","from_module":null,"from_unit":null}`

// advance moves an in_progress chat on: to requires_action when its question
// is a /tool command not yet answered, else to completed with the bot's
// answer. It returns the messages it produced. The caller holds mu.
func (s *Sandbox) advance(ch *chat) []*Message {
	if ch.Status != statusInProgress {
		return nil
	}
	now := s.now().Unix()
	if call, ok := s.toolCall(ch); ok {
		b, _ := json.Marshal(call) // plain strings: cannot fail
		m := s.botMessage(ch, "function_call", string(b), now)
		ch.messages = append(ch.messages, m)
		ch.Status = statusRequiresAction
		ch.RequiredAction = &RequiredAction{Type: "submit_tool_outputs", SubmitToolOutputs: &SubmitToolOutputs{ToolCalls: []ToolCall{call}}}
		if ch.save {
			ch.conv.appendMessages(m)
		}
		return []*Message{m}
	}
	answer := ch.question
	if answer == "" {
		answer = greeting
	}
	out := []*Message{s.botMessage(ch, "answer", answer, now), s.botMessage(ch, "verbose", verboseFinish, now)}
	ch.messages = append(ch.messages, out...)
	ch.Status, ch.CompletedAt, ch.RequiredAction = statusCompleted, now, nil
	outCount := utf8.RuneCountInString(answer)
	ch.Usage = &Usage{InputCount: ch.input, OutputCount: outCount, TokenCount: ch.input + outCount}
	if ch.save {
		ch.conv.appendMessages(out...)
	}
	return out
}

// toolCall is the call a /tool question asks for, until its output arrives
// (then the question is the output).
func (s *Sandbox) toolCall(ch *chat) (ToolCall, bool) {
	rest, ok := strings.CutPrefix(ch.question, toolCommand)
	if !ok || ch.toolDone {
		return ToolCall{}, false
	}
	name, args, _ := strings.Cut(strings.TrimSpace(rest), " ")
	args = strings.TrimSpace(args)
	if args == "" || !json.Valid([]byte(args)) {
		b, _ := json.Marshal(map[string]string{"input": args})
		args = string(b)
	}
	if name == "" {
		name = "tool"
	}
	return ToolCall{ID: s.newID(), Type: "function", Function: ToolFunction{Name: name, Arguments: args}}, true
}

// streamChat advances ch and sends it as events, each flushed on its own:
// chat.created, chat.in_progress, the answer in a few deltas, the answer and
// the verbose message completed, chat.completed (with usage), done. A /tool
// chat ends with its function_call message and chat.requires_action.
func (s *Sandbox) streamChat(w http.ResponseWriter, ch *chat) {
	st := s.st
	st.mu.Lock()
	start := ch.Chat
	start.Status, start.Usage = statusCreated, nil
	produced := s.advance(ch)
	final := ch.Chat
	st.mu.Unlock()

	e := s.startSSE(w, false)
	e.event(eventChatCreated, start)
	start.Status = statusInProgress
	e.event(eventChatInProgress, start)
	s.sendProduced(e, produced, final)
}

// sendProduced streams what advance produced, then the chat's final event and
// done.
func (s *Sandbox) sendProduced(e *sse, produced []*Message, final Chat) {
	for _, m := range produced {
		if m.Type == "answer" {
			for _, part := range deltas(m.Content) {
				d := *m
				d.Content = part
				e.event(eventMessageDelta, &d)
			}
		}
		e.event(eventMessageCompleted, m)
	}
	if final.Status == statusRequiresAction {
		e.event(eventChatRequiresAction, final)
	} else {
		e.event(eventChatCompleted, final)
	}
	e.event(eventDone, doneData)
}

// maxDeltas is how many pieces an answer is streamed in, at most.
const maxDeltas = 4

// deltas splits an answer into a few pieces at rune boundaries, as a model
// streams tokens.
func deltas(s string) []string {
	runes := []rune(s)
	n := min(maxDeltas, len(runes))
	if n <= 1 {
		return []string{s}
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, string(runes[i*len(runes)/n:(i+1)*len(runes)/n]))
	}
	return out
}

// chatIDs reads conversation_id and chat_id from the query (all SDKs put them
// there), else from a JSON body.
func chatIDs(r *http.Request) (conversationID, chatID string, err error) {
	var body struct {
		ConversationID string `json:"conversation_id"`
		ChatID         string `json:"chat_id"`
	}
	q := r.URL.Query()
	if q.Get("conversation_id") == "" || q.Get("chat_id") == "" {
		if r.Method == http.MethodPost {
			if err := decodeBody(r, &body, true); err != nil {
				return "", "", err
			}
		}
	}
	return param(r, "conversation_id", body.ConversationID), param(r, "chat_id", body.ChatID), nil
}

// chatRetrieve answers /v3/chat/retrieve; an in_progress chat advances (so
// polling clients finish after one poll).
func (s *Sandbox) chatRetrieve(w http.ResponseWriter, r *http.Request) error {
	convID, chatID, err := chatIDs(r)
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	ch, err := st.chatFor(convID, chatID, owner(r))
	var view Chat
	if err == nil {
		s.advance(ch)
		view = ch.Chat
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, view)
	return nil
}

// chatMessages answers /v3/chat/message/list: the messages the bot produced
// in the chat (answer and verbose; function_call while it awaits a tool
// output); none while it is in progress.
func (s *Sandbox) chatMessages(w http.ResponseWriter, r *http.Request) error {
	convID, chatID, err := chatIDs(r)
	if err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	ch, err := st.chatFor(convID, chatID, owner(r))
	out := []Message{}
	if err == nil {
		for _, m := range ch.messages {
			out = append(out, *m)
		}
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, out)
	return nil
}

// chatCancel answers /v3/chat/cancel: an in_progress (or requires_action)
// chat is canceled; a finished one answers 4104, the code cozepy's
// create_and_poll expects of a chat that cannot be canceled.
func (s *Sandbox) chatCancel(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		ConversationID string `json:"conversation_id"`
		ChatID         string `json:"chat_id"`
	}
	if err := decodeBody(r, &body, false); err != nil {
		return err
	}
	st := s.st
	st.mu.Lock()
	ch, err := st.chatFor(param(r, "conversation_id", body.ConversationID), param(r, "chat_id", body.ChatID), owner(r))
	var view Chat
	if err == nil {
		switch ch.Status {
		case statusInProgress, statusRequiresAction:
			ch.Status, ch.RequiredAction = statusCanceled, nil
			view = ch.Chat
		default:
			err = &apiError{codeNotCancelable, http.StatusBadRequest, fmt.Sprintf("chat %s is %s and cannot be canceled", ch.ID, ch.Status)}
		}
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, view)
	return nil
}

// toolOutputsRequest is the body of /v3/chat/submit_tool_outputs.
type toolOutputsRequest struct {
	ConversationID string `json:"conversation_id"`
	ChatID         string `json:"chat_id"`
	ToolOutputs    []struct {
		ToolCallID string `json:"tool_call_id"`
		Output     string `json:"output"`
	} `json:"tool_outputs"`
	Stream bool `json:"stream"`
}

// chatSubmitToolOutputs answers /v3/chat/submit_tool_outputs for a chat that
// requires action (a /tool question): the output becomes the bot's answer.
// Streamed like a chat; otherwise the chat is in_progress again and completes
// on the next retrieve.
func (s *Sandbox) chatSubmitToolOutputs(w http.ResponseWriter, r *http.Request) error {
	var req toolOutputsRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if len(req.ToolOutputs) == 0 {
		return badRequest("tool_outputs is required")
	}
	st := s.st
	st.mu.Lock()
	ch, err := st.chatFor(param(r, "conversation_id", req.ConversationID), param(r, "chat_id", req.ChatID), owner(r))
	if err == nil {
		err = s.takeToolOutputs(ch, req)
	}
	if err != nil {
		st.mu.Unlock()
		return err
	}
	view := ch.Chat
	var produced []*Message
	if req.Stream {
		produced = s.advance(ch)
	}
	final := ch.Chat
	st.mu.Unlock()
	if !req.Stream {
		s.writeData(w, r, view)
		return nil
	}
	e := s.startSSE(w, false)
	e.event(eventChatInProgress, view)
	s.sendProduced(e, produced, final)
	return nil
}

// takeToolOutputs checks the outputs answer the pending call and puts the
// chat back in progress with the output as the question. The caller holds mu.
func (s *Sandbox) takeToolOutputs(ch *chat, req toolOutputsRequest) error {
	if ch.Status != statusRequiresAction || ch.RequiredAction == nil {
		return badRequest("chat %s does not await tool outputs (status %s); only a chat whose question is %q… does", ch.ID, ch.Status, strings.TrimSpace(toolCommand))
	}
	want := ch.RequiredAction.SubmitToolOutputs.ToolCalls
	var outputs []string
	for i, o := range req.ToolOutputs {
		found := false
		for _, c := range want {
			found = found || c.ID == o.ToolCallID
		}
		if !found {
			return badRequest("tool_outputs[%d].tool_call_id %q is not a pending tool call of chat %s", i, o.ToolCallID, ch.ID)
		}
		outputs = append(outputs, o.Output)
	}
	if len(outputs) != len(want) {
		return badRequest("chat %s awaits %d tool outputs, got %d", ch.ID, len(want), len(outputs))
	}
	ch.toolDone = true
	ch.question = strings.Join(outputs, "\n")
	ch.input += utf8.RuneCountInString(ch.question)
	ch.Status, ch.RequiredAction = statusInProgress, nil
	return nil
}
