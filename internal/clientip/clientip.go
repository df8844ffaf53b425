// Package clientip finds the address of the client behind a request, taking
// X-Forwarded-For into account only when the request comes from a proxy the
// operator trusts: anyone can send that header, so trusting it blindly would
// let every client pick the address that rate limits count against.
package clientip

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Resolver resolves client addresses. The zero value trusts no proxy.
type Resolver struct {
	// Trusted are the proxies whose X-Forwarded-For is believed.
	Trusted []netip.Prefix
}

// ParsePrefixes parses CIDRs or single addresses ("10.0.0.0/8", "192.0.2.7").
func ParsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		for _, part := range strings.Split(s, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if p, err := netip.ParsePrefix(part); err == nil {
				out = append(out, p.Masked())
				continue
			}
			a, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("%q is neither a CIDR nor an IP address", part)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out, nil
}

func (r *Resolver) trusted(a netip.Addr) bool {
	for _, p := range r.Trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// IP returns the client's address as a string. Behind trusted proxies it is
// the right-most X-Forwarded-For entry that is not itself a trusted proxy
// (entries to its left were written by the client and prove nothing).
func (r *Resolver) IP(req *http.Request) string {
	remote := remoteAddr(req)
	a, err := netip.ParseAddr(remote)
	if err != nil || len(r.Trusted) == 0 || !r.trusted(a.Unmap()) {
		return remote
	}
	hops := strings.Split(strings.Join(req.Header.Values("X-Forwarded-For"), ","), ",")
	client := a.Unmap()
	for i := len(hops) - 1; i >= 0; i-- {
		h, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a malformed hop: stop at the last address we could read
		}
		client = h.Unmap()
		if !r.trusted(client) {
			break
		}
	}
	return client.String()
}

func remoteAddr(req *http.Request) string {
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}
