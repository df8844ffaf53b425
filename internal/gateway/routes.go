package gateway

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cozeauth/cozeauth/internal/permission"
)

// Routes matches a request's method and path against the catalog's routes.
// It is compiled once, at start; matching allocates nothing.
type Routes struct {
	byMethod map[string][]*compiled
}

// Match is a matched catalog route.
type Match struct {
	Perm  *permission.Permission
	Route *permission.Route
	// param is the index of the path segment holding the resource ID when the
	// route names it with "path:NAME" (-1 otherwise).
	param int
	multi bool // the resource parameter is a trailing {NAME...}
}

type compiled struct {
	Match
	segs  []string // literal segments; "" where the pattern has a wildcard
	multi bool     // the last segment is {NAME...}: matches the rest of the path
	order string   // specificity key: lower sorts (and wins) first
}

// maxSegments bounds the segments of a matched path (longer paths never
// match a catalog route).
const maxSegments = 32

// CompileRoutes builds the matcher. Patterns follow Go's ServeMux syntax
// restricted to what the catalog uses: literal segments, {NAME} and a trailing
// {NAME...}. Two routes with the same method and shape are an error.
func CompileRoutes(c *permission.Catalog) (*Routes, error) {
	rs := &Routes{byMethod: map[string][]*compiled{}}
	seen := map[string]string{}
	for _, p := range c.All() {
		for i := range p.Routes {
			r := &p.Routes[i]
			cr, err := compile(p, r)
			if err != nil {
				return nil, fmt.Errorf("permission %s: route %s %s: %w", p.Name, r.Method, r.Path, err)
			}
			key := r.Method + " " + shape(cr)
			if other, dup := seen[key]; dup {
				return nil, fmt.Errorf("route %s %s is listed by both %s and %s", r.Method, r.Path, other, p.Name)
			}
			seen[key] = p.Name
			rs.byMethod[r.Method] = append(rs.byMethod[r.Method], cr)
		}
	}
	for _, list := range rs.byMethod {
		sort.SliceStable(list, func(i, j int) bool { return list[i].order < list[j].order })
	}
	return rs, nil
}

func shape(c *compiled) string {
	var b strings.Builder
	for _, s := range c.segs {
		b.WriteByte('/')
		if s == "" {
			b.WriteString("{}")
		} else {
			b.WriteString(s)
		}
	}
	if c.multi {
		b.WriteString("...")
	}
	return b.String()
}

func compile(p *permission.Permission, r *permission.Route) (*compiled, error) {
	if strings.ContainsAny(r.Method, " /") || r.Method != strings.ToUpper(r.Method) {
		return nil, fmt.Errorf("method must be an upper-case HTTP method")
	}
	parts := strings.Split(strings.TrimPrefix(r.Path, "/"), "/")
	if len(parts) > maxSegments {
		return nil, fmt.Errorf("more than %d segments", maxSegments)
	}
	cr := &compiled{Match: Match{Perm: p, Route: r, param: -1}}
	var order strings.Builder
	names := map[string]int{}
	for i, s := range parts {
		if s == "" {
			return nil, fmt.Errorf("empty path segment")
		}
		if !strings.HasPrefix(s, "{") {
			if strings.ContainsAny(s, "{}") {
				return nil, fmt.Errorf("segment %q: a wildcard must be a whole segment", s)
			}
			cr.segs = append(cr.segs, s)
			order.WriteByte('0')
			continue
		}
		name, ok := strings.CutSuffix(s[1:], "}")
		if !ok || name == "" {
			return nil, fmt.Errorf("segment %q: bad wildcard", s)
		}
		if n, ok := strings.CutSuffix(name, "..."); ok {
			if i != len(parts)-1 {
				return nil, fmt.Errorf("{%s} must be the last segment", name)
			}
			name, cr.multi = n, true
		}
		if _, dup := names[name]; dup {
			return nil, fmt.Errorf("wildcard {%s} named twice", name)
		}
		names[name] = i
		cr.segs = append(cr.segs, "")
		order.WriteByte('1')
	}
	// Exact-length routes before trailing-wildcard ones, then literal
	// segments before wildcards, left to right (as ServeMux prefers the more
	// specific pattern).
	if cr.multi {
		cr.order = "1" + order.String()
	} else {
		cr.order = "0" + order.String()
	}
	if where, name, _ := strings.Cut(r.ResourceFrom, ":"); where == "path" {
		i, ok := names[name]
		if !ok {
			return nil, fmt.Errorf("resource_from %q names no wildcard of the path", r.ResourceFrom)
		}
		cr.param = i
		cr.Match.multi = cr.multi && i == len(parts)-1
	}
	return cr, nil
}

// Lookup returns the route matching method and path (a cleaned, decoded URL
// path). HEAD matches GET routes, as on ServeMux.
func (rs *Routes) Lookup(method, path string) (*Match, bool) {
	var buf [maxSegments]string
	segs, ok := split(path, &buf)
	if !ok {
		return nil, false
	}
	if m, ok := rs.lookup(method, segs); ok {
		return m, true
	}
	if method == "HEAD" {
		return rs.lookup("GET", segs)
	}
	return nil, false
}

func (rs *Routes) lookup(method string, segs []string) (*Match, bool) {
	for _, c := range rs.byMethod[method] {
		if c.matches(segs) {
			return &c.Match, true
		}
	}
	return nil, false
}

func (c *compiled) matches(segs []string) bool {
	if c.multi {
		if len(segs) < len(c.segs) {
			return false
		}
	} else if len(segs) != len(c.segs) {
		return false
	}
	for i, lit := range c.segs {
		if lit == "" {
			if segs[i] == "" && !(c.multi && i == len(c.segs)-1) {
				return false // {NAME} matches a non-empty segment
			}
			continue
		}
		if segs[i] != lit {
			return false
		}
	}
	return true
}

// split cuts "/a/b/c" into its segments without allocating.
func split(path string, buf *[maxSegments]string) ([]string, bool) {
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	path = path[1:]
	n := 0
	for {
		if n == maxSegments {
			return nil, false
		}
		i := strings.IndexByte(path, '/')
		if i < 0 {
			buf[n] = path
			n++
			break
		}
		buf[n] = path[:i]
		n++
		path = path[i+1:]
	}
	return buf[:n], true
}

// PathResource returns the resource ID the matched route names in path.
func (m *Match) PathResource(path string) string {
	if m.param < 0 {
		return ""
	}
	var buf [maxSegments]string
	segs, ok := split(path, &buf)
	if !ok || m.param >= len(segs) {
		return ""
	}
	if m.multi {
		return strings.Join(segs[m.param:], "/")
	}
	return segs[m.param]
}
