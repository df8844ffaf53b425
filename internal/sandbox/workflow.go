package sandbox

import (
	"net/http"
	"unicode/utf8"
)

// The workflow events of a stream (coze-go WorkflowEventType).
const (
	eventWorkflowMessage = "Message"
	eventWorkflowDone    = "Done"
)

// Run modes of a workflow execution (coze-go WorkflowRunMode).
const (
	runModeSync   = 0
	runModeStream = 1
	runModeAsync  = 2
)

// workflowRequest is the body of /v1/workflow/run and stream_run (coze-go
// RunWorkflowsReq).
type workflowRequest struct {
	WorkflowID      string            `json:"workflow_id"`
	Parameters      map[string]any    `json:"parameters"`
	BotID           string            `json:"bot_id"`
	AppID           string            `json:"app_id"`
	Ext             map[string]string `json:"ext"`
	IsAsync         bool              `json:"is_async"`
	WorkflowVersion string            `json:"workflow_version"`
}

// runResult is the flat body of /v1/workflow/run: data (the output as a JSON
// string), debug_url (cozepy requires the field), execute_id and usage beside
// code and msg.
type runResult struct {
	flatHead
	Data      string `json:"data,omitempty"`
	DebugURL  string `json:"debug_url"`
	ExecuteID string `json:"execute_id"`
	Usage     Usage  `json:"usage"`
}

// runWorkflow checks req and records its execution. The sandbox workflow has
// one End node that returns the input parameters.
// Its mode is stream, else async or sync as the request asks.
func (s *Sandbox) runWorkflow(r *http.Request, stream bool) (*execution, error) {
	var req workflowRequest
	if err := decodeBody(r, &req, false); err != nil {
		return nil, err
	}
	if err := required("workflow_id", req.WorkflowID); err != nil {
		return nil, err
	}
	mode := runModeSync
	switch {
	case stream:
		mode = runModeStream
	case req.IsAsync:
		mode = runModeAsync
	}
	params := req.Parameters
	if params == nil {
		params = map[string]any{}
	}
	out, err := marshal(params)
	if err != nil {
		return nil, badRequest("parameters cannot be encoded: %v", err)
	}
	output := string(out[:len(out)-1])
	in := utf8.RuneCountInString(output)
	e := &execution{
		id: s.newID(), workflowID: req.WorkflowID, botID: req.BotID, owner: owner(r), output: output,
		logID: logID(r), created: s.now().Unix(), mode: mode,
		usage: Usage{InputCount: in, OutputCount: in, TokenCount: 2 * in},
	}
	s.st.mu.Lock()
	s.st.addExecution(e)
	s.st.mu.Unlock()
	return e, nil
}

// workflowRun answers POST /v1/workflow/run; an asynchronous run answers only
// its execute_id (its output is in run_histories).
func (s *Sandbox) workflowRun(w http.ResponseWriter, r *http.Request) error {
	e, err := s.runWorkflow(r, false)
	if err != nil {
		return err
	}
	res := runResult{flatHead: s.head(r), ExecuteID: e.id, Usage: e.usage}
	if e.mode == runModeSync {
		res.Data = e.output
	}
	s.writeFlat(w, r, res)
	return nil
}

// workflowMessage is the data of a Message event (coze-go
// WorkflowEventMessage).
type workflowMessage struct {
	Content      string `json:"content"`
	NodeTitle    string `json:"node_title"`
	NodeSeqID    string `json:"node_seq_id"`
	NodeIsFinish bool   `json:"node_is_finish"`
	NodeID       string `json:"node_id"`
	NodeType     string `json:"node_type"`
	Usage        *Usage `json:"usage,omitempty"`
}

// endNodeID is the ID Coze gives a workflow's End node.
const endNodeID = "900001"

// workflowStreamRun answers POST /v1/workflow/stream_run: the End node's
// Message (the parameters as JSON), then Done.
func (s *Sandbox) workflowStreamRun(w http.ResponseWriter, r *http.Request) error {
	e, err := s.runWorkflow(r, true)
	if err != nil {
		return err
	}
	ev := s.startSSE(w, true)
	usage := e.usage
	ev.event(eventWorkflowMessage, workflowMessage{
		Content: e.output, NodeTitle: "End", NodeSeqID: "0", NodeIsFinish: true,
		NodeID: endNodeID, NodeType: "End", Usage: &usage,
	})
	ev.event(eventWorkflowDone, struct {
		DebugURL string `json:"debug_url"`
	}{})
	return nil
}

// runHistory is one entry of run_histories (coze-go WorkflowRunHistory).
type runHistory struct {
	ExecuteID     string `json:"execute_id"`
	ExecuteStatus string `json:"execute_status"`
	BotID         string `json:"bot_id"`
	ConnectorID   string `json:"connector_id"`
	ConnectorUID  string `json:"connector_uid"`
	RunMode       int    `json:"run_mode"`
	LogID         string `json:"logid"`
	CreateTime    int64  `json:"create_time"`
	UpdateTime    int64  `json:"update_time"`
	Output        string `json:"output"`
	ErrorCode     string `json:"error_code"`
	ErrorMessage  string `json:"error_message"`
	DebugURL      string `json:"debug_url"`
	Usage         Usage  `json:"usage"`
}

// apiConnectorID is Coze's "API" connector.
const apiConnectorID = "1024"

// workflowHistory answers GET /v1/workflows/{workflow_id}/run_histories/{execute_id}:
// every sandbox run has succeeded by the time anyone asks.
func (s *Sandbox) workflowHistory(w http.ResponseWriter, r *http.Request, workflowID, executeID string) error {
	who := owner(r)
	s.st.mu.Lock()
	e, ok := s.st.execs[executeID]
	s.st.mu.Unlock()
	switch {
	case !ok || e.workflowID != workflowID:
		return notFound("execution %s of workflow %s not found", executeID, workflowID)
	case e.owner != "" && who != "" && e.owner != who:
		return forbidden("execution %s belongs to another account", executeID)
	}
	s.writeData(w, r, []runHistory{{
		ExecuteID: e.id, ExecuteStatus: "Success", BotID: e.botID, ConnectorID: apiConnectorID,
		ConnectorUID: who, RunMode: e.mode, LogID: e.logID, CreateTime: e.created, UpdateTime: e.created,
		Output: e.output, ErrorCode: "0", Usage: e.usage,
	}})
	return nil
}

// workflowChatRequest is the body of /v1/workflows/chat (coze-go
// WorkflowsChatStreamReq).
type workflowChatRequest struct {
	WorkflowID         string            `json:"workflow_id"`
	AdditionalMessages []inMessage       `json:"additional_messages"`
	Parameters         map[string]any    `json:"parameters"`
	AppID              string            `json:"app_id"`
	BotID              string            `json:"bot_id"`
	ConversationID     string            `json:"conversation_id"`
	Ext                map[string]string `json:"ext"`
}

// workflowChat answers POST /v1/workflows/chat, always streamed: the chat flow
// echoes the user's last message like the sandbox bot.
func (s *Sandbox) workflowChat(w http.ResponseWriter, r *http.Request) error {
	var req workflowChatRequest
	if err := decodeBody(r, &req, false); err != nil {
		return err
	}
	if err := required("workflow_id", req.WorkflowID); err != nil {
		return err
	}
	if len(req.AdditionalMessages) == 0 {
		return badRequest("additional_messages is required")
	}
	if err := checkMessages(req.AdditionalMessages); err != nil {
		return err
	}
	ch, err := s.startChat(r, req.BotID, param(r, "conversation_id", req.ConversationID), req.AdditionalMessages, nil, true)
	if err != nil {
		return err
	}
	s.streamChat(w, ch)
	return nil
}
