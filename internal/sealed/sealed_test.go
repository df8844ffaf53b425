package sealed

import (
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	type value struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	in := value{A: "secret text", N: 7}
	s, err := Seal("cookie-1", "info v1", "ad-1", in)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "secret text") {
		t.Fatal("the sealed value shows the plaintext")
	}
	if again, _ := Seal("cookie-1", "info v1", "ad-1", in); again == s {
		t.Error("two seals of one value are equal: no random nonce")
	}
	tampered := []byte(s)
	tampered[len(tampered)/2] ^= 1
	for _, tc := range []struct {
		name, secret, info, ad, sealed string
		ok                             bool
	}{
		{"same secret, info and ad", "cookie-1", "info v1", "ad-1", s, true},
		{"another secret", "cookie-2", "info v1", "ad-1", s, false},
		{"another info", "cookie-1", "info v2", "ad-1", s, false},
		{"another ad", "cookie-1", "info v1", "ad-2", s, false},
		{"tampered", "cookie-1", "info v1", "ad-1", string(tampered), false},
		{"too short", "cookie-1", "info v1", "ad-1", "AAAA", false},
		{"not base64", "cookie-1", "info v1", "ad-1", "!!", false},
	} {
		var out value
		err := Open(tc.secret, tc.info, tc.ad, tc.sealed, &out)
		if (err == nil) != tc.ok || (tc.ok && out != in) {
			t.Errorf("%s: Open = %+v, %v; want ok=%v", tc.name, out, err, tc.ok)
		}
	}
}
