package sandbox

import (
	"container/list"
	"sync"
)

// Bounds per conversation: the oldest messages and chats beyond them are
// forgotten, so a long-running dev server's memory stays flat.
const (
	maxMessagesPerConversation = 500
	maxChatsPerConversation    = 100
	maxExecutions              = 10_000
)

// Message is a Coze message, as every SDK decodes it (coze-go common.go
// Message, cozepy chat.Message, @coze/api ChatV3Message).
type Message struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversation_id"`
	BotID          string            `json:"bot_id"`
	ChatID         string            `json:"chat_id"`
	SectionID      string            `json:"section_id"`
	Role           string            `json:"role"`
	Type           string            `json:"type"`
	Content        string            `json:"content"`
	ContentType    string            `json:"content_type"`
	MetaData       map[string]string `json:"meta_data"`
	CreatedAt      int64             `json:"created_at"`
	UpdatedAt      int64             `json:"updated_at"`
}

// Chat is a Coze chat (coze-go chats.go Chat).
type Chat struct {
	ID             string            `json:"id"`
	ConversationID string            `json:"conversation_id"`
	BotID          string            `json:"bot_id"`
	CreatedAt      int64             `json:"created_at"`
	CompletedAt    int64             `json:"completed_at,omitempty"`
	FailedAt       int64             `json:"failed_at,omitempty"`
	MetaData       map[string]string `json:"meta_data,omitempty"`
	LastError      ChatError         `json:"last_error"`
	Status         string            `json:"status"`
	RequiredAction *RequiredAction   `json:"required_action,omitempty"`
	Usage          *Usage            `json:"usage,omitempty"`
	SectionID      string            `json:"section_id,omitempty"`
}

// Chat statuses.
const (
	statusCreated        = "created"
	statusInProgress     = "in_progress"
	statusCompleted      = "completed"
	statusRequiresAction = "requires_action"
	statusCanceled       = "canceled"
)

// ChatError is a chat's last_error; Coze sends {"code":0,"msg":""} when there
// was none.
type ChatError struct {
	Code int    `json:"code"`
	Msg  string `json:"msg"`
}

// Usage counts tokens; the sandbox counts characters (runes).
type Usage struct {
	TokenCount  int `json:"token_count"`
	OutputCount int `json:"output_count"`
	InputCount  int `json:"input_count"`
}

// RequiredAction asks the caller for tool outputs (the /tool command).
type RequiredAction struct {
	Type              string             `json:"type"`
	SubmitToolOutputs *SubmitToolOutputs `json:"submit_tool_outputs"`
}

// SubmitToolOutputs lists the tool calls awaiting outputs.
type SubmitToolOutputs struct {
	ToolCalls []ToolCall `json:"tool_calls"`
}

// ToolCall is one function the bot wants the caller to run.
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function ToolFunction `json:"function"`
}

// ToolFunction names the function and its JSON arguments.
type ToolFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Conversation is a Coze conversation (coze-go conversations.go).
type Conversation struct {
	ID            string            `json:"id"`
	CreatedAt     int64             `json:"created_at"`
	MetaData      map[string]string `json:"meta_data"`
	LastSectionID string            `json:"last_section_id"`
}

// conversation is a conversation with what the sandbox keeps of it.
type conversation struct {
	Conversation
	botID    string
	owner    string // account ID from the gateway, "" without one
	messages []*Message
	chats    []*chat // oldest first
	elem     *list.Element
}

// chat is a chat with its answer, produced when it completes.
type chat struct {
	Chat
	conv     *conversation
	question string     // the text the bot answers
	input    int        // usage input count
	save     bool       // auto_save_history: answer messages join the conversation
	toolDone bool       // the /tool call was answered; the question is its output
	messages []*Message // what /v3/chat/message/list returns once completed
}

// execution is an asynchronous workflow run, for run_histories.
type execution struct {
	id, workflowID, botID, owner, output, logID string
	created                                     int64
	mode                                        int
	usage                                       Usage
	elem                                        *list.Element
}

// state is everything the sandbox remembers, under one lock: requests are
// tiny and the lock is never held across I/O.
type state struct {
	mu        sync.Mutex
	max       int
	convs     map[string]*conversation
	convOrder *list.List // *conversation, oldest at the front
	chats     map[string]*chat
	execs     map[string]*execution
	execOrder *list.List
}

func newState(limit int) *state {
	return &state{
		max:       limit,
		convs:     map[string]*conversation{},
		convOrder: list.New(),
		chats:     map[string]*chat{},
		execs:     map[string]*execution{},
		execOrder: list.New(),
	}
}

// addConversation stores c, forgetting the oldest conversations beyond the
// bound. The caller holds mu.
func (st *state) addConversation(c *conversation) {
	c.elem = st.convOrder.PushBack(c)
	st.convs[c.ID] = c
	for st.convOrder.Len() > st.max {
		old := st.convOrder.Remove(st.convOrder.Front()).(*conversation)
		delete(st.convs, old.ID)
		for _, ch := range old.chats {
			delete(st.chats, ch.ID)
		}
	}
}

// addChat stores ch in its conversation. The caller holds mu.
func (st *state) addChat(ch *chat) {
	c := ch.conv
	c.chats = append(c.chats, ch)
	if len(c.chats) > maxChatsPerConversation {
		delete(st.chats, c.chats[0].ID)
		c.chats = append(c.chats[:0], c.chats[1:]...)
	}
	st.chats[ch.ID] = ch
}

// appendMessages adds messages to c's history. The caller holds mu.
func (c *conversation) appendMessages(ms ...*Message) {
	c.messages = append(c.messages, ms...)
	if n := len(c.messages) - maxMessagesPerConversation; n > 0 {
		c.messages = append(c.messages[:0], c.messages[n:]...)
	}
}

// addExecution stores e, forgetting the oldest beyond the bound. The caller
// holds mu.
func (st *state) addExecution(e *execution) {
	e.elem = st.execOrder.PushBack(e)
	st.execs[e.id] = e
	for st.execOrder.Len() > maxExecutions {
		old := st.execOrder.Remove(st.execOrder.Front()).(*execution)
		delete(st.execs, old.id)
	}
}

// conversationFor returns the conversation id as seen by account who: 4200
// when unknown, 4101 when it belongs to another account. The caller holds mu.
func (st *state) conversationFor(id, who string) (*conversation, error) {
	if err := required("conversation_id", id); err != nil {
		return nil, err
	}
	c, ok := st.convs[id]
	if !ok {
		return nil, notFound("conversation %s not found", id)
	}
	if c.owner != "" && who != "" && c.owner != who {
		return nil, forbidden("conversation %s belongs to another account; create a new conversation with this credential", id)
	}
	return c, nil
}

// chatFor returns the chat of a conversation as seen by account who. The
// caller holds mu.
func (st *state) chatFor(conversationID, chatID, who string) (*chat, error) {
	c, err := st.conversationFor(conversationID, who)
	if err != nil {
		return nil, err
	}
	if err := required("chat_id", chatID); err != nil {
		return nil, err
	}
	ch, ok := st.chats[chatID]
	if !ok || ch.conv != c {
		return nil, notFound("chat %s not found in conversation %s", chatID, conversationID)
	}
	return ch, nil
}

// cloneMeta copies a meta_data map, never returning nil (Coze sends {}).
func cloneMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
