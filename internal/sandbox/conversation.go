package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
)

// Paging bounds of the conversation and message listings (Coze's).
const (
	defaultConversationPageSize = 50
	maxPageSize                 = 50
	defaultMessageLimit         = 50
)

// conversationCreate answers POST /v1/conversation/create.
func (s *Sandbox) conversationCreate(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		BotID       string            `json:"bot_id"`
		Messages    []inMessage       `json:"messages"`
		MetaData    map[string]string `json:"meta_data"`
		ConnectorID string            `json:"connector_id"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	if len(req.Messages) > maxAdditionalMessages {
		return badRequest("messages holds %d messages; at most %d", len(req.Messages), maxAdditionalMessages)
	}
	for i := range req.Messages {
		if err := checkMessage(fmt.Sprintf("messages[%d]", i), &req.Messages[i]); err != nil {
			return err
		}
	}
	now := s.now().Unix()
	st := s.st
	st.mu.Lock()
	c := s.newConversation(req.BotID, owner(r), req.MetaData, now)
	for i := range req.Messages {
		c.appendMessages(s.message(c, nil, &req.Messages[i], now))
	}
	view := c.Conversation
	st.mu.Unlock()
	s.writeData(w, r, view)
	return nil
}

// conversationRetrieve answers GET /v1/conversation/retrieve.
func (s *Sandbox) conversationRetrieve(w http.ResponseWriter, r *http.Request) error {
	st := s.st
	st.mu.Lock()
	c, err := st.conversationFor(r.URL.Query().Get("conversation_id"), owner(r))
	var view Conversation
	if err == nil {
		view = c.Conversation
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, view)
	return nil
}

// intParam reads a positive integer query parameter within [1, max].
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, badRequest("%s must be an integer from 1 to %d, not %q", name, max, v)
	}
	return n, nil
}

// conversationList answers GET /v1/conversations: the caller's conversations
// with a bot, newest first.
func (s *Sandbox) conversationList(w http.ResponseWriter, r *http.Request) error {
	botID := r.URL.Query().Get("bot_id")
	if err := required("bot_id", botID); err != nil {
		return err
	}
	pageNum, err := intParam(r, "page_num", 1, 1<<30)
	if err != nil {
		return err
	}
	pageSize, err := intParam(r, "page_size", defaultConversationPageSize, maxPageSize)
	if err != nil {
		return err
	}
	who := owner(r)
	skip := (pageNum - 1) * pageSize
	page := struct {
		Conversations []Conversation `json:"conversations"`
		HasMore       bool           `json:"has_more"`
	}{Conversations: []Conversation{}}
	st := s.st
	st.mu.Lock()
	for e := st.convOrder.Back(); e != nil; e = e.Prev() {
		c := e.Value.(*conversation)
		if c.botID != botID || c.owner != who {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if len(page.Conversations) == pageSize {
			page.HasMore = true
			break
		}
		page.Conversations = append(page.Conversations, c.Conversation)
	}
	st.mu.Unlock()
	s.writeData(w, r, page)
	return nil
}

// conversationClear answers POST /v1/conversations/{conversation_id}/clear:
// a new section starts, and the bot no longer reads what came before.
func (s *Sandbox) conversationClear(w http.ResponseWriter, r *http.Request, id string) error {
	st := s.st
	st.mu.Lock()
	c, err := st.conversationFor(id, owner(r))
	var out struct {
		ID             string `json:"id"`
		ConversationID string `json:"conversation_id"`
	}
	if err == nil {
		c.LastSectionID = s.newID()
		out.ID, out.ConversationID = c.LastSectionID, c.ID
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, out)
	return nil
}

// messageCreate answers POST /v1/conversation/message/create.
func (s *Sandbox) messageCreate(w http.ResponseWriter, r *http.Request) error {
	var in inMessage
	if err := decodeBody(r, &in, false); err != nil {
		return err
	}
	if err := checkMessage("message", &in); err != nil {
		return err
	}
	now := s.now().Unix()
	st := s.st
	st.mu.Lock()
	c, err := st.conversationFor(r.URL.Query().Get("conversation_id"), owner(r))
	var view Message
	if err == nil {
		m := s.message(c, nil, &in, now)
		c.appendMessages(m)
		view = *m
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, view)
	return nil
}

// messageRetrieve answers GET /v1/conversation/message/retrieve.
func (s *Sandbox) messageRetrieve(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	st := s.st
	st.mu.Lock()
	c, err := st.conversationFor(q.Get("conversation_id"), owner(r))
	var view Message
	if err == nil {
		err = required("message_id", q.Get("message_id"))
	}
	if err == nil {
		err = notFound("message %s not found in conversation %s", q.Get("message_id"), c.ID)
		for _, m := range c.messages {
			if m.ID == q.Get("message_id") {
				view, err = *m, nil
				break
			}
		}
	}
	st.mu.Unlock()
	if err != nil {
		return err
	}
	s.writeData(w, r, view)
	return nil
}

// messageListRequest is the body of /v1/conversation/message/list.
type messageListRequest struct {
	Order    string `json:"order"`
	ChatID   string `json:"chat_id"`
	BeforeID string `json:"before_id"`
	AfterID  string `json:"after_id"`
	Limit    int    `json:"limit"`
	BotID    string `json:"bot_id"`
}

// messagePage is the flat body of the message list: data and the paging
// fields sit beside code and msg.
type messagePage struct {
	flatHead
	Data    []Message `json:"data"`
	FirstID string    `json:"first_id"`
	LastID  string    `json:"last_id"`
	HasMore bool      `json:"has_more"`
}

// messageList answers POST /v1/conversation/message/list. Messages are listed
// newest first ("desc", the default) or oldest first ("asc"); after_id pages
// on past a message in that order (coze-go's pager passes the last_id of a
// page), before_id pages back towards its start.
func (s *Sandbox) messageList(w http.ResponseWriter, r *http.Request) error {
	var req messageListRequest
	if err := decodeBody(r, &req, true); err != nil {
		return err
	}
	switch req.Order {
	case "":
		req.Order = "desc"
	case "asc", "desc":
	default:
		return badRequest("order must be asc or desc, not %q", req.Order)
	}
	if req.Limit == 0 {
		req.Limit = defaultMessageLimit
	}
	if req.Limit < 1 || req.Limit > maxPageSize {
		return badRequest("limit must be from 1 to %d, not %d", maxPageSize, req.Limit)
	}
	if req.BeforeID != "" && req.AfterID != "" {
		return badRequest("give before_id or after_id, not both")
	}
	page, err := s.pageMessages(r, req)
	if err != nil {
		return err
	}
	s.writeFlat(w, r, page)
	return nil
}

// pageMessages picks the page of messages req asks for, under the lock.
func (s *Sandbox) pageMessages(r *http.Request, req messageListRequest) (messagePage, error) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	c, err := st.conversationFor(r.URL.Query().Get("conversation_id"), owner(r))
	if err != nil {
		return messagePage{}, err
	}
	var all []*Message
	for _, m := range c.messages {
		if (req.ChatID == "" || m.ChatID == req.ChatID) && (req.BotID == "" || m.BotID == req.BotID) {
			all = append(all, m)
		}
	}
	if req.Order == "desc" {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	var from, to int
	index := func(id, field string) (int, error) {
		for i, m := range all {
			if m.ID == id {
				return i, nil
			}
		}
		return 0, notFound("%s %s is not a message of conversation %s", field, id, c.ID)
	}
	page := messagePage{flatHead: s.head(r), Data: []Message{}}
	switch {
	case req.AfterID != "":
		i, err := index(req.AfterID, "after_id")
		if err != nil {
			return messagePage{}, err
		}
		from = i + 1
		to = min(len(all), from+req.Limit)
		page.HasMore = to < len(all)
	case req.BeforeID != "":
		i, err := index(req.BeforeID, "before_id")
		if err != nil {
			return messagePage{}, err
		}
		to = i
		from = max(0, to-req.Limit)
		page.HasMore = from > 0
	default:
		to = min(len(all), req.Limit)
		page.HasMore = to < len(all)
	}
	for _, m := range all[from:to] {
		page.Data = append(page.Data, *m)
	}
	if n := len(page.Data); n > 0 {
		page.FirstID, page.LastID = page.Data[0].ID, page.Data[n-1].ID
	}
	return page, nil
}
