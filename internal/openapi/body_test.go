package openapi

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// TestDecodeJSON: bodies up to maxBody bytes decode however the reader
// hands them over; anything longer, empty or malformed is a 4000 that says
// why, and a failing read is one too.
func TestDecodeJSON(t *testing.T) {
	// pad makes a JSON object exactly n bytes long.
	pad := func(n int) string {
		const obj = `{"a":"x"}`
		return obj + strings.Repeat(" ", n-len(obj))
	}
	tests := []struct {
		name    string
		body    io.Reader
		wantErr string // "" when the body decodes to {"a":"x"}
	}{
		{"small", strings.NewReader(`{"a":"x"}`), ""},
		{"one byte per read", iotest.OneByteReader(strings.NewReader(`{"a":"x"}`)), ""},
		{"EOF with the last bytes", iotest.DataErrReader(strings.NewReader(`{"a":"x"}`)), ""},
		{"beyond one buffer growth", strings.NewReader(pad(5000)), ""},
		{"exactly maxBody", strings.NewReader(pad(maxBody)), ""},
		{"exactly maxBody, one byte per read", iotest.OneByteReader(strings.NewReader(pad(maxBody))), ""},
		{"one byte over maxBody", strings.NewReader(pad(maxBody + 1)), "larger than 65536 bytes"},
		{"far over maxBody", strings.NewReader(pad(4 * maxBody)), "larger than 65536 bytes"},
		{"empty", strings.NewReader(""), "body is empty"},
		{"only spaces", strings.NewReader(" \n\t "), "body is empty"},
		{"data after the object", strings.NewReader(`{"a":"x"} {}`), "data after the JSON object"},
		{"not JSON", strings.NewReader(`{"a":`), "not valid JSON"},
		{"read fails", iotest.ErrReader(errors.New("connection reset")), "could not read the request body"},
		{"read fails after data", io.MultiReader(strings.NewReader(`{"a":`), iotest.ErrReader(errors.New("reset"))), "could not read the request body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", tc.body)
			var got struct{ A string }
			e := DecodeJSON(r, &got)
			switch {
			case tc.wantErr == "" && e != nil:
				t.Fatalf("DecodeJSON: %v", e)
			case tc.wantErr == "" && got.A != "x":
				t.Fatalf("DecodeJSON decoded %+v", got)
			case tc.wantErr != "" && (e == nil || e.Code != CodeBadRequest || !strings.Contains(e.Msg, tc.wantErr)):
				t.Fatalf("DecodeJSON = %v, want a %d saying %q", e, CodeBadRequest, tc.wantErr)
			}
		})
	}
}
