package permission

import (
	_ "embed"
	"encoding/json"
	"fmt"
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

// Route is an OpenAPI route a permission guards. ResourceFrom says where the
// resource ID is found: "path:NAME", "query:NAME", "body:NAME" (a JSON body
// field) or "form:NAME" (a multipart or urlencoded form field); empty: the
// route acts on the caller's own account. ResourceType is the type of that
// resource when it differs from the permission's (empty: the permission's).
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

// validResourceFrom reports whether s is "" or "path|query|body|form:NAME".
func validResourceFrom(s string) bool {
	if s == "" {
		return true
	}
	where, name, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return false
	}
	switch where {
	case "path", "query", "body", "form":
		return true
	}
	return false
}

// Permission is one entry of the catalog.
type Permission struct {
	Name         string            `json:"name"`
	Level        Level             `json:"level"`
	ResourceType string            `json:"resource_type"`
	Description  map[string]string `json:"description"`
	Routes       []Route           `json:"routes"`
}

// Group is the resource family a permission belongs to ("Bot" for "Bot.chat"),
// used to group permissions in pickers.
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

// Catalog is the set of known permissions. It is read-only after loading.
type Catalog struct {
	list   []*Permission
	byName map[string]*Permission
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

// ParseCatalog parses and validates a catalog file.
func ParseCatalog(b []byte) (*Catalog, error) {
	var f struct {
		Permissions []*Permission `json:"permissions"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	c := &Catalog{byName: map[string]*Permission{}}
	for _, p := range f.Permissions {
		switch {
		case p.Name == "" || !strings.Contains(p.Name, "."):
			return nil, fmt.Errorf("permission %q: name must be Group.action", p.Name)
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
		for _, r := range p.Routes {
			if r.Method == "" || !strings.HasPrefix(r.Path, "/") || !validResourceFrom(r.ResourceFrom) {
				return nil, fmt.Errorf("permission %q: bad route %+v", p.Name, r)
			}
		}
		c.list = append(c.list, p)
		c.byName[p.Name] = p
	}
	sort.Slice(c.list, func(i, j int) bool { return c.list[i].Name < c.list[j].Name })
	return c, nil
}

// Lookup returns the named permission.
func (c *Catalog) Lookup(name string) (*Permission, bool) {
	p, ok := c.byName[name]
	return p, ok
}

// All returns every permission, sorted by name.
func (c *Catalog) All() []*Permission { return c.list }

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
