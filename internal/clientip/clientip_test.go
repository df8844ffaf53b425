package clientip

import (
	"net/http/httptest"
	"testing"
)

func TestIP(t *testing.T) {
	trusted, err := ParsePrefixes([]string{"10.0.0.0/8, 192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		r      Resolver
		remote string
		xff    []string
		want   string
	}{
		{"no proxy trusted: header ignored", Resolver{}, "198.51.100.1:4000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"untrusted peer: header ignored", Resolver{trusted}, "198.51.100.1:4000", []string{"203.0.113.9"}, "198.51.100.1"},
		{"trusted peer, one hop", Resolver{trusted}, "10.1.2.3:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"client-written entries left of the real one are ignored", Resolver{trusted}, "10.1.2.3:4000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"chain of trusted proxies", Resolver{trusted}, "10.1.2.3:4000", []string{"203.0.113.9, 192.0.2.7", "10.9.9.9"}, "203.0.113.9"},
		{"trusted peer without header", Resolver{trusted}, "10.1.2.3:4000", nil, "10.1.2.3"},
		{"malformed hop stops the walk", Resolver{trusted}, "10.1.2.3:4000", []string{"203.0.113.9, garbage"}, "10.1.2.3"},
		{"IPv6 peer", Resolver{}, "[2001:db8::1]:4000", nil, "2001:db8::1"},
		{"all hops trusted", Resolver{trusted}, "10.1.2.3:4000", []string{"10.4.4.4"}, "10.4.4.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.r.IP(req); got != tc.want {
				t.Errorf("IP = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParsePrefixes(t *testing.T) {
	if _, err := ParsePrefixes([]string{"10.0.0.0/33"}); err == nil {
		t.Error("accepted /33")
	}
	if _, err := ParsePrefixes([]string{"proxy.example.com"}); err == nil {
		t.Error("accepted a host name")
	}
	p, err := ParsePrefixes([]string{"::ffff:10.0.0.1", "fd00::/8"})
	if err != nil || len(p) != 2 || !p[0].Addr().Is4() {
		t.Errorf("ParsePrefixes = %v, %v", p, err)
	}
}
