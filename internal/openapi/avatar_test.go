package openapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAvatar(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AvatarPath+"{file}", Avatar)
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	tests := []struct {
		name, path string
		status     int
	}{
		{"a user ID", "/avatars/7958734431466498412.svg", 200},
		{"another seed", "/avatars/abc.svg", 200},
		{"not svg", "/avatars/abc.png", 404},
		{"empty seed", "/avatars/.svg", 404},
		{"seed too long", "/avatars/" + strings.Repeat("a", 65) + ".svg", 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(tc.path)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status != 200 {
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "image/svg+xml" {
				t.Errorf("Content-Type %q", ct)
			}
			if body := rec.Body.String(); !strings.HasPrefix(body, "<svg ") || !strings.HasSuffix(body, "</svg>") {
				t.Errorf("body is not an SVG: %s", body)
			}
			if again := get(tc.path).Body.String(); again != rec.Body.String() {
				t.Error("the same seed drew a different avatar")
			}
		})
	}
	if get("/avatars/a.svg").Body.String() == get("/avatars/b.svg").Body.String() {
		t.Error("two seeds drew the same avatar")
	}
}

func TestDefaultAvatarURL(t *testing.T) {
	a := &API{PublicURL: "https://auth.example/"}
	if got, want := a.defaultAvatar("42"), "https://auth.example/avatars/42.svg"; got != want {
		t.Errorf("defaultAvatar = %q, want %q", got, want)
	}
}
