// Package jsonstr appends JSON strings without reflection, byte for byte as
// the standard library writes them, for the lines and answers written on
// every request.
package jsonstr

import "unicode/utf8"

// Append appends s as a JSON string as encoding/json writes it with HTML
// escaping off (Encoder.SetEscapeHTML(false)): invalid UTF-8 as U+FFFD;
// quotes, backslashes, control characters, U+2028 and U+2029 escaped, with
// \b, \f, \n, \r and \t in their short forms.
func Append(b []byte, s string) []byte { return appendString(b, s, true) }

// AppendSlog appends s as log/slog's JSON handler writes it: as Append,
// except that \b and \f are written \u0008 and \u000c.
func AppendSlog(b []byte, s string) []byte { return appendString(b, s, false) }

func appendString(b []byte, s string, shortBF bool) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b' && shortBF:
				b = append(b, '\\', 'b')
			case c == '\f' && shortBF:
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
