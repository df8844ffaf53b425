package gotest

// Seed 004's fallback program ("升级企业版后更新 API 授权") run against
// `cozeauth serve --dev`, whose gateway answers chat routes with the
// in-process sandbox: with no Coze account, the personal credential chats
// (streamed and polled, as the SDKs' stream and createAndPoll do) until its
// workspace migrates into the enterprise, then gets 4101, and the seed's
// fallback answers with the enterprise credential. Both of the seed's
// credential pairs: PATs, and JWT tokens of one Service app for the personal
// account and for the enterprise that installed it.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/client"
)

// sworld is the seed's world, made with the admin CLI:
//
//	alice: personal workspace "Alpha" with bot; Admin of enterprise "Acme" (boss SuperAdmin)
//	alice's PATs: personal (all workspaces), enterprise (in Acme, all workspaces)
//	alice's Service app: authorized in her account, installed in Acme
type sworld struct {
	adm
	aliceAcct, ent, ws, bot string
	patPersonal, patEnt     token
	svc                     oapp
	svcKey                  appKey
}

// chatPerms are what the seed's chat program needs: POST /v3/chat, retrieve
// and message list (createAndPoll).
var chatPerms = []string{"--permission", "Bot.chat", "--permission", "Chat.getChat", "--permission", "Conversation.listMessage"}

func buildSandboxWorld(t *testing.T, dsn string) *sworld {
	t.Helper()
	w := &sworld{adm: adm{t: t, db: dsn}}
	a := w.adm
	var u struct {
		AccountID string `json:"account_id"`
	}
	a.jsonIn(testPassword+"\n", &u, "user", "create", "--username", "alice", "--password-stdin")
	w.aliceAcct = u.AccountID
	a.user("boss")
	w.ent = a.str("enterprise_id", "enterprise", "create", "--name", "Acme", "--super-admin", "boss")
	a.changed("enterprise", "add-member", "--enterprise", w.ent, "--user", "alice", "--role", "Admin")
	w.ws = a.str("workspace_id", "workspace", "create", "--name", "Alpha", "--owner", "alice")
	w.bot = a.str("resource_id", "resource", "create", "--workspace", w.ws, "--type", "bot")
	w.patPersonal = a.createToken("pat", append([]string{"--user", "alice", "--name", "personal", "--days", "30", "--workspaces", "all"}, chatPerms...)...)
	// The seed's new PAT: made in the enterprise, valid for all its workspaces.
	w.patEnt = a.createToken("pat", append([]string{"--user", "alice", "--name", "enterprise", "--permanent", "--workspaces", "all", "--enterprise", w.ent}, chatPerms...)...)
	a.json(&w.svc, append([]string{"app", "create", "--owner", "alice", "--type", "jwt", "--name", "Chat Service"}, chatPerms...)...)
	w.svcKey = a.genKey(w.svc.ID)
	a.changed("app", "authorize", "--app", w.svc.ID, "--user", "alice", "--workspaces", "all")
	var inst struct {
		InstallationID string `json:"installation_id"`
	}
	a.json(&inst, "enterprise", "install-app", "--enterprise", w.ent, "--app", w.svc.ID, "--by", "alice")
	return w
}

// sbChat is the chat object of the Coze API (what coze-go decodes).
type sbChat struct {
	ID             string `json:"id"`
	ConversationID string `json:"conversation_id"`
	BotID          string `json:"bot_id"`
	Status         string `json:"status"`
	Usage          *struct {
		TokenCount int `json:"token_count"`
	} `json:"usage"`
}

type sbMessage struct {
	Role    string `json:"role"`
	Type    string `json:"type"`
	Content string `json:"content"`
}

// chatter runs the seed's chat call with one credential, polled or streamed.
type chatter struct {
	c       *client.Client
	baseURL string
}

func chatRequest(bot, text string, stream bool, conversationID string) map[string]any {
	req := map[string]any{
		"bot_id": bot, "user_id": "seed-004", "stream": stream, "auto_save_history": true,
		"additional_messages": []map[string]string{{"role": "user", "type": "question", "content": text, "content_type": "text"}},
	}
	if conversationID != "" {
		req["conversation_id"] = conversationID
	}
	return req
}

// createAndPoll is the SDKs' createAndPoll through the Go client: create the
// chat, retrieve it until it completes, then list its messages. It returns
// the answer and the chat.
func (ch chatter) createAndPoll(ctx context.Context, tok, bot, text, conversationID string) (string, sbChat, error) {
	var c sbChat
	var q url.Values
	if conversationID != "" {
		q = url.Values{"conversation_id": {conversationID}}
	}
	if err := ch.c.Do(ctx, client.Request{Method: "POST", Path: "/v3/chat", Query: q, Token: tok, Body: chatRequest(bot, text, false, "")}, &c); err != nil {
		return "", c, err
	}
	if c.Status != "in_progress" || c.ID == "" || c.ConversationID == "" {
		return "", c, fmt.Errorf("created chat %+v, want in_progress with IDs", c)
	}
	ids := url.Values{"conversation_id": {c.ConversationID}, "chat_id": {c.ID}}
	// The sandbox advances a chat per retrieve, not by time: no sleeping.
	for polls := 0; c.Status != "completed"; polls++ {
		if polls == 5 {
			return "", c, fmt.Errorf("chat still %s after %d retrieves", c.Status, polls)
		}
		if err := ch.c.Do(ctx, client.Request{Method: "GET", Path: "/v3/chat/retrieve", Query: ids, Token: tok}, &c); err != nil {
			return "", c, err
		}
	}
	var msgs []sbMessage
	if err := ch.c.Do(ctx, client.Request{Method: "GET", Path: "/v3/chat/message/list", Query: ids, Token: tok}, &msgs); err != nil {
		return "", c, err
	}
	for _, m := range msgs {
		if m.Type == "answer" {
			return m.Content, c, nil
		}
	}
	return "", c, fmt.Errorf("no answer among the chat's messages %+v", msgs)
}

// stream is the SDKs' chat stream: POST /v3/chat with stream true, the SSE
// events read one by one (coze-go's reader: an event: line, then its data:
// line). A refusal comes as the JSON envelope, returned as a *client.APIError
// like the client's other calls (the client has no streaming call).
func (ch chatter) stream(ctx context.Context, tok, bot, text string) (string, []string, error) {
	body, _ := json.Marshal(chatRequest(bot, text, true, ""))
	req, err := http.NewRequestWithContext(ctx, "POST", ch.baseURL+"/v3/chat", strings.NewReader(string(body)))
	if err != nil {
		return "", nil, err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpc.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		var env struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return "", nil, &client.APIError{HTTPStatus: resp.StatusCode, Code: env.Code, Msg: env.Msg, LogID: resp.Header.Get("X-Tt-Logid")}
	}
	var events []string
	var deltas, answer string
	br := bufio.NewReader(resp.Body)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return "", events, fmt.Errorf("stream ended after %v: %w", events, err)
		}
		event, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "event:")
		if !ok {
			continue
		}
		data, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(data, "data:") {
			return "", events, fmt.Errorf("event %s without its data line (%q, %v)", event, data, err)
		}
		data = strings.TrimSpace(data[len("data:"):])
		events = append(events, event)
		switch event {
		case "conversation.message.delta", "conversation.message.completed":
			var m sbMessage
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				return "", events, fmt.Errorf("%s data %s: %w", event, data, err)
			}
			if m.Type == "answer" && event == "conversation.message.delta" {
				deltas += m.Content
			} else if m.Type == "answer" {
				answer = m.Content
			}
		case "done":
			if deltas != answer {
				return "", events, fmt.Errorf("deltas %q do not add up to the answer %q", deltas, answer)
			}
			return answer, events, nil
		}
	}
}

// seedChat is the seed's program with our Go client, as written in the seed:
// chat with the personal credential; when that fails with 4100 or 4101, chat
// again with the enterprise one. It returns which credential answered and
// the answer.
func seedChat(personal, enterprise func() (string, error)) (string, string, error) {
	resp, err := personal()
	if err == nil {
		return "personal", resp, nil
	}
	var cozeErr *client.APIError
	if errors.As(err, &cozeErr) {
		// Authentication or Authorization Deny
		if cozeErr.Code == 4100 || cozeErr.Code == 4101 {
			resp, err = enterprise()
			if err == nil {
				return "enterprise", resp, nil
			}
		}
	}
	return "", "", err
}

func TestSandboxSeedFallback(t *testing.T) {
	t.Parallel()
	dsn := sqliteDB(t)
	w := buildSandboxWorld(t, dsn)
	srv := startServer(t, "serve --dev", dsn, "--dev")
	ch := chatter{c: srv.C, baseURL: srv.URL}
	ctx := ctxT(t)

	jwtReq := client.JWTRequest{ClientID: w.svc.ClientID, KeyID: w.svcKey.ID, PrivateKeyPEM: w.svcKey.PrivateKey}
	personalReq, entReq := jwtReq, jwtReq
	personalReq.AccountID, entReq.EnterpriseID = w.aliceAcct, w.ent
	jwtPersonal, err := srv.C.JWTToken(ctx, personalReq)
	if err != nil {
		t.Fatalf("JWT token for alice's account: %v", err)
	}
	jwtEnt, err := srv.C.JWTToken(ctx, entReq)
	if err != nil {
		t.Fatalf("JWT token for the enterprise: %v", err)
	}
	pairs := []struct{ name, personal, enterprise string }{
		{"PATs", w.patPersonal.Token, w.patEnt.Token},
		{"JWT tokens", jwtPersonal.AccessToken, jwtEnt.AccessToken},
	}
	type mode struct {
		name string
		chat func(tok, text string) (string, error)
	}
	modes := []mode{
		{"stream", func(tok, text string) (string, error) {
			answer, events, err := ch.stream(ctx, tok, w.bot, text)
			if err == nil && (len(events) < 5 || events[0] != "conversation.chat.created" || events[len(events)-2] != "conversation.chat.completed") {
				return "", fmt.Errorf("events %v", events)
			}
			return answer, err
		}},
		{"createAndPoll", func(tok, text string) (string, error) {
			answer, _, err := ch.createAndPoll(ctx, tok, w.bot, text, "")
			return answer, err
		}},
	}
	wantCode := func(t *testing.T, what string, err error, code int) {
		t.Helper()
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Code != code || ae.HTTPStatus != map[int]int{4100: 401, 4101: 403}[code] || ae.LogID == "" {
			t.Errorf("%s: got %v, want code %d with its HTTP status and a log ID", what, err, code)
		}
	}

	var personalConv string
	t.Run("before the migration the personal credential answers", func(t *testing.T) {
		for _, p := range pairs {
			for _, m := range modes {
				text := fmt.Sprintf("What can you do? (%s, %s, before)", p.name, m.name)
				who, answer, err := seedChat(func() (string, error) { return m.chat(p.personal, text) },
					func() (string, error) { return m.chat(p.enterprise, text) })
				if err != nil || who != "personal" || answer != text {
					t.Errorf("%s %s: answered by %q with %q (%v); want the personal credential echoing %q", p.name, m.name, who, answer, err, text)
				}
				// The enterprise credential does not reach the personal workspace yet.
				_, err = m.chat(p.enterprise, text)
				wantCode(t, p.name+" "+m.name+": the enterprise credential before the migration", err, 4101)
			}
		}
		_, c, err := ch.createAndPoll(ctx, w.patPersonal.Token, w.bot, "remember me", "")
		if err != nil {
			t.Fatal(err)
		}
		personalConv = c.ConversationID
	})

	t.Run("migrate", func(t *testing.T) {
		var out struct {
			Migrated bool `json:"migrated"`
		}
		adm{t: t, db: dsn}.json(&out, "workspace", "migrate", "--workspace", w.ws, "--enterprise", w.ent, "--by", "alice")
		if !out.Migrated {
			t.Fatalf("workspace migrate printed migrated=false")
		}
		// The server (another process) sees the migration within the bound.
		d, ok := eventually(revocationBound, func() bool {
			_, err := modes[0].chat(w.patPersonal.Token, "settle")
			return codeOf(err) == 4101
		})
		if !ok {
			t.Fatalf("the personal PAT still chats %v after the migration", d)
		}
		t.Logf("the gateway refused the personal PAT %v after the migration", d.Round(time.Millisecond))
	})

	t.Run("after the migration the personal credential gets 4101 and the fallback answers with the enterprise one", func(t *testing.T) {
		for _, p := range pairs {
			for _, m := range modes {
				text := fmt.Sprintf("What can you do? (%s, %s, after)", p.name, m.name)
				_, err := m.chat(p.personal, text)
				wantCode(t, p.name+" "+m.name+": the personal credential after the migration", err, 4101)
				who, answer, err := seedChat(func() (string, error) { return m.chat(p.personal, text) },
					func() (string, error) { return m.chat(p.enterprise, text) })
				if err != nil || who != "enterprise" || answer != text {
					t.Errorf("%s %s: answered by %q with %q (%v); want the enterprise credential echoing %q", p.name, m.name, who, answer, err, text)
				}
			}
		}
	})

	t.Run("a conversation the personal account made stays with it", func(t *testing.T) {
		// The seed: conversations belong to the account that made them; after
		// the migration, create a new one with the enterprise credential.
		_, _, err := ch.createAndPoll(ctx, w.patEnt.Token, w.bot, "continue", personalConv)
		wantCode(t, "the enterprise PAT continuing the personal conversation", err, 4101)
		var ae *client.APIError
		if errors.As(err, &ae) && !strings.Contains(ae.Msg, "create a new conversation") {
			t.Errorf("the refusal does not say what to do: %q", ae.Msg)
		}
		answer, _, err := ch.createAndPoll(ctx, w.patEnt.Token, w.bot, "a new conversation", "")
		if err != nil || answer != "a new conversation" {
			t.Errorf("the enterprise PAT in a new conversation: %q, %v", answer, err)
		}
	})
}
