package openapi

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/cozeauth/cozeauth/internal/authz"
)

var checkBodies = []struct {
	body string
	fast bool // whether decodeCheck takes it; otherwise encoding/json does
}{
	{`{"permission":"Bot.chat","resource":{"type":"bot","id":"7"}}`, true},
	{` { "permission" : "Bot.chat" , "bot_id" : "b1" , "resource" : { "id" : "7" , "type" : "bot" } } ` + "\n", true},
	{`{"permission":"Workspace.list"}`, true},
	{`{}`, true},
	{`{"resource":{}}`, true},
	{`{"permission":""}`, true},
	{`{"permission":"Bot.chat","resource":null}`, false},
	{`{"permission":"Bot.chat","resource":{"type":"bot","id":7}}`, false},
	{`{"Permission":"Bot.chat"}`, false},      // encoding/json matches keys without case
	{`{"permission":"Bot.\u0063hat"}`, false}, // escapes
	{`{"permission":"Bot.chat","permission":"Workspace.list"}`, false},
	{`{"resource":{"type":"bot"},"resource":{"id":"7"}}`, false}, // encoding/json merges the two
	{`{"permission":"Bot.chat","extra":1}`, false},
	{`{"permission":"Bot.chat"} {}`, false},
	{`{"permission":"Bot.chat",}`, false},
	{`{"permission":"é"}`, false},
	{`["permission"]`, false},
	{``, false},
	{`   `, false},
	{`{"permission":"Bot.chat"`, false},
	{`{"resource":{"type":"bot","id":"7"},"permission":null}`, false},
}

// decodeCheckRef decodes body as encoding/json alone would.
func decodeCheckRef(body []byte) (checkRequest, error) {
	var req checkRequest
	err := json.Unmarshal(body, &req)
	return req, err
}

// fastCheck is decodeCheck as the check handler uses it.
func fastCheck(body []byte) (checkRequest, bool) {
	var req checkRequest
	var res authz.ResourceRef
	ok, hasRes := decodeCheck(body, &req, &res)
	if hasRes {
		req.Resource = &res
	}
	return req, ok
}

func TestDecodeCheck(t *testing.T) {
	for _, tc := range checkBodies {
		req, got := fastCheck([]byte(tc.body))
		if got != tc.fast {
			t.Errorf("decodeCheck(%q) = %v, want %v", tc.body, got, tc.fast)
			continue
		}
		if !got {
			continue
		}
		want, err := decodeCheckRef([]byte(tc.body))
		if err != nil {
			t.Errorf("decodeCheck took %q, which encoding/json refuses: %v", tc.body, err)
			continue
		}
		if !reflect.DeepEqual(req, want) {
			t.Errorf("decodeCheck(%q) = %+v, encoding/json %+v", tc.body, req, want)
		}
	}
}

// FuzzDecodeCheck: whatever the fast path takes, encoding/json takes too and
// decodes to the same request.
func FuzzDecodeCheck(f *testing.F) {
	for _, tc := range checkBodies {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, ok := fastCheck(body)
		if !ok {
			return
		}
		want, err := decodeCheckRef(body)
		if err != nil {
			t.Fatalf("decodeCheck took %q, which encoding/json refuses: %v", body, err)
		}
		if !reflect.DeepEqual(req, want) {
			t.Fatalf("decodeCheck(%q) = %+v, encoding/json %+v", body, req, want)
		}
	})
}
