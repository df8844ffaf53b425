package openapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
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
