package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/openapi"
)

// Lookup says how to ask the upstream which workspace a resource of one type
// lives in: GET Path (with {id} replaced by the escaped ID) with the upstream
// credential, then read the dotted Field of the JSON answer (which must have
// code 0 when it has a code). Written TYPE=PATH#FIELD, e.g.
// bot=/v1/bots/{id}#data.space_id.
type Lookup struct {
	Type  string
	Path  string
	Field []string
}

// ParseLookup parses TYPE=PATH#FIELD.
func ParseLookup(s string) (Lookup, error) {
	typ, rest, ok := strings.Cut(s, "=")
	path, field, ok2 := strings.Cut(rest, "#")
	if !ok || !ok2 || typ == "" || !strings.HasPrefix(path, "/") || !strings.Contains(path, "{id}") || field == "" {
		return Lookup{}, fmt.Errorf("upstream resolver %q: want TYPE=/PATH/WITH/{id}#json.field, e.g. bot=/v1/bots/{id}#data.space_id", s)
	}
	if typ == "workspace" || typ == "account" || typ == "enterprise" {
		return Lookup{}, fmt.Errorf("upstream resolver %q: %s is not a workspace resource type", s, typ)
	}
	return Lookup{Type: typ, Path: path, Field: strings.Split(field, ".")}, nil
}

// Resolver asks the upstream about resources cozeauth does not know. Answers
// are cached for TTL; a miss (the upstream does not know the ID either) is
// not, so a resource created a moment later resolves at once.
type Resolver struct {
	Upstream *url.URL
	Token    string
	Lookups  map[string]Lookup
	Client   *http.Client
	TTL      time.Duration
	Now      func() time.Time

	mu    sync.Mutex
	cache map[[2]string]resolved
}

type resolved struct {
	workspace string
	until     time.Time
}

const maxResolved = 100_000

var _ authz.ResourceResolver = (*Resolver)(nil)

// ResolveWorkspace implements authz.ResourceResolver.
func (r *Resolver) ResolveWorkspace(ctx context.Context, typ, id string) (string, bool, error) {
	l, ok := r.Lookups[typ]
	if !ok {
		return "", false, nil
	}
	key := [2]string{typ, id}
	now := r.Now()
	r.mu.Lock()
	c, hit := r.cache[key]
	r.mu.Unlock()
	if hit && now.Before(c.until) {
		return c.workspace, true, nil
	}
	ws, ok, err := r.ask(ctx, l, id)
	if err != nil || !ok {
		return "", false, err
	}
	r.mu.Lock()
	if r.cache == nil || len(r.cache) >= maxResolved {
		r.cache = map[[2]string]resolved{}
	}
	r.cache[key] = resolved{workspace: ws, until: now.Add(r.TTL)}
	r.mu.Unlock()
	return ws, true, nil
}

func (r *Resolver) ask(ctx context.Context, l Lookup, id string) (string, bool, error) {
	u := *r.Upstream
	u.Path = strings.TrimRight(u.Path, "/") + strings.ReplaceAll(l.Path, "{id}", url.PathEscape(id))
	u.RawPath = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", false, err
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := r.Client.Do(req)
	if err != nil {
		return "", false, &openapi.Error{Code: CodeBadGateway, Status: http.StatusBadGateway,
			Msg: "the upstream could not be asked where the " + l.Type + " lives", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if resp.StatusCode >= 500 {
			return "", false, &openapi.Error{Code: CodeBadGateway, Status: http.StatusBadGateway,
				Msg: "the upstream failed when asked where the " + l.Type + " lives", Err: fmt.Errorf("resolver: %s", resp.Status)}
		}
		return "", false, nil
	}
	var body map[string]any
	dec := json.NewDecoder(io.LimitReader(resp.Body, 4<<20))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		return "", false, nil
	}
	if code, ok := body["code"]; ok && fmt.Sprint(code) != "0" {
		return "", false, nil
	}
	var v any = body
	for _, k := range l.Field {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false, nil
		}
		v = m[k]
	}
	switch v := v.(type) {
	case string:
		return v, v != "", nil
	case json.Number:
		return v.String(), true, nil
	}
	return "", false, nil
}
