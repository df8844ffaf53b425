package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cozeauth/cozeauth/internal/logid"
)

// TestWriteErrorClientGone: a request whose client went away (its context
// cancelled) is recorded as 499 and logs no error; a cancellation the client
// did not cause is still an internal error.
func TestWriteErrorClientGone(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cancel  bool
		err     error
		status  int
		logsErr bool
	}{
		{"client gone", true, fmt.Errorf("query: %w", context.Canceled), 499, false},
		{"canceled, client still there", false, context.Canceled, 500, true},
		{"another error, client gone", true, errors.New("boom"), 500, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tc.cancel {
				cancel()
			} else {
				defer cancel()
			}
			var logs bytes.Buffer
			rec := httptest.NewRecorder()
			WriteError(rec, httptest.NewRequest(http.MethodGet, "/v1/users/me", nil).WithContext(ctx),
				slog.New(slog.NewTextHandler(&logs, nil)), tc.err)
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if got := bytes.Contains(logs.Bytes(), []byte("level=ERROR")); got != tc.logsErr {
				t.Errorf("logged an error = %v, want %v: %s", got, tc.logsErr, logs.String())
			}
		})
	}
}

// TestWriteData: the envelope WriteData writes out is what encoding/json
// makes of the envelope struct, for raw and encoded data and for log IDs that
// need escaping (which take the struct's path).
func TestWriteData(t *testing.T) {
	for _, tc := range []struct {
		name string
		data any
		id   string
	}{
		{"struct", struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}{"1", "<b>&é\"</b>"}, "20261203232024fb5d6197acc6a6ff4cd9"},
		{"raw", allowed, "20261203232024fb5d6197acc6a6ff4cd9"},
		{"user profile", userProfile{"1578264790860567218", "demo", "Demo User", "http://127.0.0.1:8080/avatars/1578264790860567218.svg"}, "20261203232024fb5d6197acc6a6ff4cd9"},
		{"user profile to escape", userProfile{"", "a\"b\\c", "<i>\b\f\n\x00 \xff \u2028 日本</i>", "https://x.example/a?b=1&c=2"}, "abc"},
		{"slice", []int{1, 2}, "abc"},
		{"empty map", map[string]string{}, ""},
		{"log ID to escape", map[string]int{"a": 1}, `x"<y>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodGet, "/v1/users/me", nil)
			r = r.WithContext(logid.With(r.Context(), tc.id))
			WriteData(rec, r, tc.data)
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(envelope{Data: tc.data, Detail: detail{LogID: tc.id}}); err != nil {
				t.Fatal(err)
			}
			if rec.Code != http.StatusOK || rec.Body.String() != want.String() {
				t.Errorf("WriteData wrote %d %q, want 200 %q", rec.Code, rec.Body, want.String())
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
