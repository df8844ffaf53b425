package permission

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// Level says what a permission is exercised on.
type Level string

const (
	// LevelAccount: on an account's own resources (conversations, voices, the
	// workspace list). The resource is named {"type": "account", "id": <account ID>}.
	LevelAccount Level = "account"
	// LevelWorkspace: on a resource living in a workspace (a bot, a workflow).
	LevelWorkspace Level = "workspace"
	// LevelEnterprise: on an enterprise ({"type": "enterprise", "id": …}).
	LevelEnterprise Level = "enterprise"
)

// Route is an OpenAPI route a permission guards. Method and Path form a Go
// 1.22 ServeMux pattern ("GET /v1/bots/{bot_id}"). ResourceFrom says where the
// resource ID is found: "path:NAME" (a wildcard of Path), "query:NAME",
// "body:NAME" (a top-level JSON body field; a string or a number, or an array
// of them when the route acts on several resources, each of which must be
// allowed) or "form:NAME" (a multipart or urlencoded form field); empty: the
// route acts on the caller's own account, which only account-level
// permissions may do. ResourceType is the type of that resource when it
// differs from the permission's (empty: the permission's).
type Route struct {
	Method       string `json:"method"`
	Path         string `json:"path"`
	ResourceFrom string `json:"resource_from,omitempty"`
	ResourceType string `json:"resource_type,omitempty"`
}

// Type returns the type of the resource the route names.
func (r *Route) Type(p *Permission) string {
	if r.ResourceType != "" {
		return r.ResourceType
	}
	return p.ResourceType
}

// Pattern is the route's ServeMux pattern, "METHOD /path".
func (r *Route) Pattern() string { return r.Method + " " + r.Path }

// routeMethods are the methods a route may name (GET also admits WebSocket
// upgrades).
var routeMethods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true,
}

// checkResourceFrom reports what is wrong with a route's ResourceFrom, if
// anything: it must be "" or "path|query|body|form:NAME", and a path NAME must
// be a wildcard of the route's path.
func checkResourceFrom(r *Route) error {
	if r.ResourceFrom == "" {
		return nil
	}
	where, name, ok := strings.Cut(r.ResourceFrom, ":")
	if !ok || name == "" || strings.ContainsAny(name, " :{}/") {
		return fmt.Errorf("resource_from %q is not WHERE:NAME", r.ResourceFrom)
	}
	switch where {
	case "path":
		if !strings.Contains(r.Path, "{"+name+"}") && !strings.Contains(r.Path, "{"+name+"...}") {
			return fmt.Errorf("resource_from %q names no wildcard of %s", r.ResourceFrom, r.Path)
		}
	case "query", "body", "form":
	default:
		return fmt.Errorf("resource_from %q: the place must be path, query, body or form", r.ResourceFrom)
	}
	return nil
}

// checkPatterns registers every route in a fresh ServeMux, so that a path
// that is not a valid pattern, or two routes that conflict (both match some
// request and neither is more specific), are caught when the catalog loads
// rather than when the gateway mounts it. ServeMux reports both by panicking;
// the panic is turned into an error here and goes no further.
func checkPatterns(routes map[string]string) (err error) {
	mux := http.NewServeMux()
	pattern := ""
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("route %q (%s): %v", pattern, routes[pattern], v)
		}
	}()
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, pattern = range keys {
		mux.Handle(pattern, http.NotFoundHandler())
	}
	return nil
}

// Permission is one entry of the catalog.
type Permission struct {
	Name         string            `json:"name"`
	Level        Level             `json:"level"`
	ResourceType string            `json:"resource_type"`
	Description  map[string]string `json:"description"`
	Routes       []Route           `json:"routes"`
}

// Group is the name of the group a permission belongs to: the resource
// family before the dot ("Bot" for "Bot.chat"), as Coze names its permissions.
func (p *Permission) Group() string {
	g, _, _ := strings.Cut(p.Name, ".")
	return g
}

// Text returns the description in lang ("en" or "zh-CN"), falling back to English.
func (p *Permission) Text(lang string) string {
	if t, ok := p.Description[lang]; ok {
		return t
	}
	return p.Description["en"]
}

// Group is a family of permissions shown together in the pickers, with a
// title in each page language.
type Group struct {
	Name  string            `json:"name"`
	Title map[string]string `json:"title"`
	// Permissions are the group's permissions sorted by name (filled in when
	// the catalog loads).
	Permissions []*Permission `json:"-"`
}

// Text returns the title in lang ("en" or "zh-CN"), falling back to English.
func (g *Group) Text(lang string) string {
	if t, ok := g.Title[lang]; ok {
		return t
	}
	return g.Title["en"]
}

// Catalog is the set of known permissions. It is read-only after loading.
type Catalog struct {
	list   []*Permission
	byName map[string]*Permission
	groups []*Group
}

//go:embed catalog.json
var catalogJSON []byte

// Default returns the catalog embedded in the binary.
func Default() *Catalog { return defaultCatalog }

var defaultCatalog = mustParse(catalogJSON)

func mustParse(b []byte) *Catalog {
	c, err := ParseCatalog(b)
	if err != nil {
		panic("embedded permission catalog: " + err.Error()) // a build defect, caught by tests
	}
	return c
}

// ParseCatalog parses and validates a catalog file: every permission is
// Group.action of a listed group, with a known level, a resource type and
// descriptions in en and zh-CN; every route is a valid ServeMux pattern, no
// two routes conflict, and each says where its resource is.
func ParseCatalog(b []byte) (*Catalog, error) {
	var f struct {
		Groups      []*Group      `json:"groups"`
		Permissions []*Permission `json:"permissions"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	c := &Catalog{byName: map[string]*Permission{}, groups: f.Groups}
	groups := map[string]*Group{}
	for _, g := range f.Groups {
		switch {
		case g.Name == "" || strings.ContainsAny(g.Name, ". "):
			return nil, fmt.Errorf("group %q: a name without dots or spaces is needed", g.Name)
		case groups[g.Name] != nil:
			return nil, fmt.Errorf("group %q listed twice", g.Name)
		case g.Title["en"] == "" || g.Title["zh-CN"] == "":
			return nil, fmt.Errorf("group %q: needs en and zh-CN titles", g.Name)
		}
		groups[g.Name] = g
	}
	routes := map[string]string{} // pattern → permission
	for _, p := range f.Permissions {
		group, action, _ := strings.Cut(p.Name, ".")
		switch {
		case group == "" || action == "" || strings.ContainsAny(action, ". "):
			return nil, fmt.Errorf("permission %q: name must be Group.action", p.Name)
		case groups[group] == nil:
			return nil, fmt.Errorf("permission %q: group %q is not in the groups list", p.Name, group)
		case c.byName[p.Name] != nil:
			return nil, fmt.Errorf("permission %q listed twice", p.Name)
		case p.Level != LevelAccount && p.Level != LevelWorkspace && p.Level != LevelEnterprise:
			return nil, fmt.Errorf("permission %q: unknown level %q", p.Name, p.Level)
		case p.ResourceType == "":
			return nil, fmt.Errorf("permission %q: no resource_type", p.Name)
		case p.Level == LevelAccount && p.ResourceType != "account",
			p.Level == LevelEnterprise && p.ResourceType != "enterprise":
			return nil, fmt.Errorf("permission %q: a %s-level permission acts on %q resources", p.Name, p.Level, p.Level)
		case p.Description["en"] == "" || p.Description["zh-CN"] == "":
			return nil, fmt.Errorf("permission %q: needs en and zh-CN descriptions", p.Name)
		}
		for i := range p.Routes {
			r := &p.Routes[i]
			if err := checkRoute(p, r); err != nil {
				return nil, fmt.Errorf("permission %q: route %s: %w", p.Name, r.Pattern(), err)
			}
			if other, dup := routes[r.Pattern()]; dup {
				return nil, fmt.Errorf("permission %q: route %s is already %s's", p.Name, r.Pattern(), other)
			}
			routes[r.Pattern()] = p.Name
		}
		c.list = append(c.list, p)
		c.byName[p.Name] = p
	}
	if err := checkPatterns(routes); err != nil {
		return nil, err
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].Name < c.list[j].Name })
	for _, p := range c.list {
		g := groups[p.Group()]
		g.Permissions = append(g.Permissions, p)
	}
	for _, g := range c.groups {
		if len(g.Permissions) == 0 {
			return nil, fmt.Errorf("group %q has no permissions", g.Name)
		}
	}
	return c, nil
}

// checkRoute checks one route of p on its own.
func checkRoute(p *Permission, r *Route) error {
	switch {
	case !routeMethods[r.Method]:
		return fmt.Errorf("method %q is not one of GET, POST, PUT, PATCH, DELETE", r.Method)
	case !strings.HasPrefix(r.Path, "/") || strings.ContainsAny(r.Path, " \t?#"):
		return fmt.Errorf("path %q must start with / and hold no spaces, query or fragment", r.Path)
	case r.ResourceFrom == "" && p.Level != LevelAccount:
		return fmt.Errorf("a %s-level permission needs resource_from: where the route names its %s", p.Level, r.Type(p))
	case r.ResourceFrom == "" && r.ResourceType != "" && r.ResourceType != "account":
		return fmt.Errorf("a route on the caller's own account acts on an account, not a %q", r.ResourceType)
	case r.ResourceType != "" && strings.TrimSpace(r.ResourceType) != r.ResourceType:
		return fmt.Errorf("resource_type %q has spaces", r.ResourceType)
	}
	return checkResourceFrom(r)
}

// Lookup returns the named permission.
func (c *Catalog) Lookup(name string) (*Permission, bool) {
	p, ok := c.byName[name]
	return p, ok
}

// All returns every permission, sorted by name.
func (c *Catalog) All() []*Permission { return c.list }

// ResourceTypes are the types of the resources that live in a workspace and
// that workspace-level permissions act on (bot, workflow, dataset, …), sorted:
// what can be registered as a resource. A workspace itself is not one.
func (c *Catalog) ResourceTypes() []string {
	var out []string
	for _, p := range c.list {
		if p.Level == LevelWorkspace && p.ResourceType != "workspace" && !slices.Contains(out, p.ResourceType) {
			out = append(out, p.ResourceType)
		}
	}
	slices.Sort(out)
	return out
}

// Groups returns the groups in the order the pickers show them, each with its
// permissions.
func (c *Catalog) Groups() []*Group { return c.groups }

// Group returns the named group.
func (c *Catalog) Group(name string) (*Group, bool) {
	for _, g := range c.groups {
		if g.Name == name {
			return g, true
		}
	}
	return nil, false
}

// Validate checks that every name is in the catalog and returns them sorted
// and de-duplicated.
func (c *Catalog) Validate(names []string) ([]string, error) {
	seen := map[string]bool{}
	out := make([]string, 0, len(names))
	for _, n := range names {
		if _, ok := c.byName[n]; !ok {
			return nil, fmt.Errorf("unknown permission %q", n)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}
