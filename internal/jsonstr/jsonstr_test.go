package jsonstr

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// stdlib is what encoding/json (HTML escaping off) and log/slog write for s.
func stdlib(t *testing.T, s string) (enc, slogged string) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil {
		t.Fatal(err)
	}
	enc = strings.TrimSuffix(b.String(), "\n")
	b.Reset()
	slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key != "s" {
			return slog.Attr{}
		}
		return a
	}})).LogAttrs(context.Background(), slog.LevelInfo, "", slog.String("s", s))
	slogged = strings.TrimSuffix(strings.TrimPrefix(b.String(), `{"s":`), "}\n")
	return enc, slogged
}

func check(t *testing.T, s string) {
	t.Helper()
	enc, slogged := stdlib(t, s)
	if got := string(Append(nil, s)); got != enc {
		t.Errorf("Append(%q) = %s, encoding/json writes %s", s, got, enc)
	}
	if got := string(AppendSlog([]byte("x"), s)); got != "x"+slogged {
		t.Errorf("AppendSlog(%q) = %s, slog writes %s", s, got[1:], slogged)
	}
}

func TestAppend(t *testing.T) {
	for _, s := range []string{
		"", "plain", "Demo User", "a\"b\\c", "\n\r\t\b\f\x00\x1f\x7f", "<b>&amp;</b>",
		"\xff\xfe", "ü 日本 😀", "\u2028\u2029", "bad \xe2\x80 end", "https://x.example/avatars/1.svg?a=1&b=2",
	} {
		check(t, s)
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\b\f\u2028", "\xff", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { check(t, s) })
}
