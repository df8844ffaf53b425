package web

// EnglishMessages is the English text of every catalog message whose
// Chinese differs, for the test that no English shows on a Chinese page.
func EnglishMessages() map[string]string {
	out := map[string]string{}
	for k, m := range messages {
		if m[0] != m[1] {
			out[k] = m[0]
		}
	}
	return out
}
