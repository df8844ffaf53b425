// Package gateway puts cozeauth in front of a Coze-compatible OpenAPI (Coze
// Studio, or the in-process sandbox): every request to a catalog route that
// cozeauth does not answer itself is authenticated, authorized by the route's
// permission on the route's resource through the one decision
// (authz.Authorizer), and only then forwarded, with the caller's credential
// replaced by the upstream's and the caller's identity in X-Cozeauth-*
// headers.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cozeauth/cozeauth/internal/authz"
	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/openapi"
	"github.com/cozeauth/cozeauth/internal/permission"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Identity headers sent to the upstream. Every X-Cozeauth-* header the
// caller sent is removed first.
const (
	HeaderPrefix         = "X-Cozeauth-"
	HeaderUserID         = "X-Cozeauth-User-Id"
	HeaderAccountID      = "X-Cozeauth-Account-Id"
	HeaderCredentialType = "X-Cozeauth-Credential-Type"
	HeaderCredentialID   = "X-Cozeauth-Credential-Id"
	HeaderAppID          = "X-Cozeauth-App-Id"
	HeaderWorkspaceID    = "X-Cozeauth-Workspace-Id"
)

// Coze-shaped errors of the gateway itself (WIRE.md §7 envelope).
const (
	CodeNoUpstream     = 5001 // HTTP 501: no upstream configured
	CodeBadGateway     = 5002 // HTTP 502: the upstream could not be reached or broke the exchange
	CodeGatewayTimeout = 5004 // HTTP 504: the upstream did not answer in time
)

// DefaultMaxBody is the default limit of a proxied request body.
const DefaultMaxBody = 512 << 20

// UserTokens gives a user's own upstream credential, if they have one.
type UserTokens interface {
	UpstreamToken(ctx context.Context, userID string) (token string, ok bool, err error)
}

// Options configure a Gateway.
type Options struct {
	Authz  *authz.Authorizer
	Routes *Routes
	// Upstream is the base URL requests are forwarded to. When nil, Local
	// answers them in-process (the sandbox); when both are nil, catalog
	// routes answer CodeNoUpstream after authorization.
	Upstream *url.URL
	Local    http.Handler
	// Token is the static upstream credential; UserTokens, when set, may
	// give a per-user one instead.
	Token      string
	UserTokens UserTokens
	// AllowUnlisted forwards authenticated requests to routes the catalog
	// does not list (otherwise they get 4101).
	AllowUnlisted bool
	MaxBody       int64         // default DefaultMaxBody
	Timeout       time.Duration // for the upstream's response headers; default 2 minutes
	Transport     http.RoundTripper
	Log           *slog.Logger
}

// Gateway is the http.Handler for every OpenAPI path the server's mux does
// not serve itself.
type Gateway struct {
	o     Options
	proxy *httputil.ReverseProxy
}

// New builds the gateway.
func New(o Options) *Gateway {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Minute
	}
	g := &Gateway{o: o}
	if o.Upstream != nil {
		tr := o.Transport
		if tr == nil {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.MaxIdleConns = 1024
			t.MaxIdleConnsPerHost = 256
			t.ResponseHeaderTimeout = o.Timeout
			// Bodies pass as the upstream sent them; the client's own
			// Accept-Encoding is forwarded.
			t.DisableCompression = true
			tr = t
		}
		g.proxy = &httputil.ReverseProxy{
			Rewrite:        g.rewrite,
			FlushInterval:  -1, // SSE: every write reaches the client at once
			Transport:      tr,
			ModifyResponse: modifyResponse,
			ErrorHandler:   g.upstreamError,
			ErrorLog:       slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
			BufferPool:     bufferPool{},
		}
	}
	return g
}

// IsOpenAPIPath reports whether p is on the OpenAPI's path space, which the
// gateway guards; other unknown paths are simply not found.
func IsOpenAPIPath(p string) bool {
	return strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v3/") ||
		strings.HasPrefix(p, "/open_api/")
}

// forward is what the handler decided, for the proxy's Rewrite hook.
type forward struct {
	token   string
	headers [6][2]string
	n       int
	body    *bodyWatch
}

func (f *forward) add(k, v string) {
	if v != "" {
		f.headers[f.n] = [2]string{k, v}
		f.n++
	}
}

// apply removes the caller's credential and X-Cozeauth-* headers and adds
// the upstream credential and the identity headers.
func (f *forward) apply(h http.Header) {
	for k := range h {
		if len(k) >= len(HeaderPrefix) && strings.EqualFold(k[:len(HeaderPrefix)], HeaderPrefix) {
			delete(h, k)
		}
	}
	if f.token != "" {
		h.Set("Authorization", "Bearer "+f.token)
	} else {
		h.Del("Authorization")
	}
	for _, kv := range f.headers[:f.n] {
		h[kv[0]] = []string{kv[1]}
	}
}

type forwardKey struct{}

// credentialType is the X-Cozeauth-Credential-Type of a principal.
func credentialType(p *authz.Principal) string {
	switch {
	case p.Kind == string(store.KindPAT):
		return "pat"
	case p.Kind == string(store.KindSAT):
		return "sat"
	case strings.HasPrefix(p.Kind, "oauth"):
		return "oauth"
	}
	return p.Kind
}

func (g *Gateway) fail(w http.ResponseWriter, r *http.Request, err error) {
	openapi.WriteError(w, r, g.o.Log, err)
}

// ServeHTTP authenticates, authorizes and forwards one request.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsOpenAPIPath(r.URL.Path) {
		g.fail(w, r, openapi.NotFound("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	if strings.Contains(r.URL.RawPath, "%2F") || strings.Contains(r.URL.RawPath, "%2f") {
		// The route (and the resource ID) are matched on the decoded path; an
		// upstream routing on the raw one could read another ID out of it.
		g.fail(w, r, openapi.BadRequest("encoded slashes (%%2F) are not allowed in OpenAPI paths"))
		return
	}
	m, listed := g.o.Routes.Lookup(r.Method, r.URL.Path)
	if listed {
		r.Pattern = m.Route.Method + " " + m.Route.Path // the metrics' route label
	} else {
		r.Pattern = "gateway: unlisted"
	}
	tok, ok := openapi.BearerToken(r)
	if !ok {
		g.fail(w, r, openapi.Unauthenticated("missing or malformed Authorization header; send \"Authorization: Bearer <token>\""))
		return
	}
	p, d, err := g.o.Authz.Authenticate(r.Context(), tok)
	if err != nil {
		g.fail(w, r, err)
		return
	}
	if p != nil {
		openapi.NoteCredential(r, p.Cred.ID)
	}
	if !d.OK() {
		g.fail(w, r, openapi.Denied(d))
		return
	}
	if !listed && !g.o.AllowUnlisted {
		g.fail(w, r, openapi.Denied(permission.Decision{Code: permission.Forbidden,
			Reason: fmt.Sprintf("route not in the permission catalog: %s %s", r.Method, r.URL.Path)}))
		return
	}
	if r.ContentLength > g.o.MaxBody {
		g.fail(w, r, tooLarge(g.o.MaxBody))
		return
	}
	watch := &bodyWatch{ReadCloser: http.MaxBytesReader(w, r.Body, g.o.MaxBody)}
	r.Body = watch
	f := &forward{body: watch}
	if listed {
		ws, ok := g.authorize(w, r, p, m)
		if !ok {
			return
		}
		f.add(HeaderWorkspaceID, ws)
	}
	f.add(HeaderUserID, p.Cred.UserID)
	f.add(HeaderAccountID, p.Cred.Account.ID)
	f.add(HeaderCredentialType, credentialType(p))
	f.add(HeaderCredentialID, p.Cred.ID)
	f.add(HeaderAppID, p.AppID)
	f.token = g.o.Token
	if p.Cred.UserID != "" && g.o.UserTokens != nil {
		t, ok, err := g.o.UserTokens.UpstreamToken(r.Context(), p.Cred.UserID)
		if err != nil {
			g.fail(w, r, err)
			return
		}
		if ok {
			f.token = t
		}
	}
	if g.proxy != nil || g.o.Local != nil {
		// Streams (SSE, long uploads) may outlast the server's read and write
		// timeouts, which suit cozeauth's own short answers.
		rc := http.NewResponseController(w)
		_ = rc.SetWriteDeadline(time.Time{})
		_ = rc.SetReadDeadline(time.Time{})
	}
	switch {
	case g.proxy != nil:
		r.Header.Set(logid.Header, logid.From(r.Context()))
		g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), forwardKey{}, f)))
	case g.o.Local != nil:
		f.apply(r.Header)
		g.o.Local.ServeHTTP(w, r)
	default:
		g.fail(w, r, &openapi.Error{Code: CodeNoUpstream, Status: http.StatusNotImplemented,
			Msg: "authorized, but this cozeauth has no upstream to forward the request to (start it with --upstream URL)"})
	}
}

// authorize finds the route's resource and decides the request; it returns
// the resource's workspace when known.
func (g *Gateway) authorize(w http.ResponseWriter, r *http.Request, p *authz.Principal, m *Match) (string, bool) {
	id, e := resourceID(r, m)
	if e != nil {
		g.fail(w, r, e)
		return "", false
	}
	ws, mixed := "", false
	for i, one := range strings.Split(id, idSep) {
		ref, botID := resourceRef(p, m, one)
		d, t, err := g.o.Authz.CheckTarget(r.Context(), p, m.Perm, ref, botID)
		if err != nil {
			g.fail(w, r, err)
			return "", false
		}
		if !d.OK() {
			g.fail(w, r, openapi.Denied(d))
			return "", false
		}
		here := ""
		if t != nil {
			here = t.Workspace.ID
		}
		if i == 0 {
			ws = here
		} else if here != ws {
			mixed = true
		}
	}
	if mixed {
		// The header names the workspace of all the resources, or none.
		ws = ""
	}
	return ws, true
}

// resourceRef names what the decision is about: the resource the route
// names, or, for a route acting on the caller's own account, that account.
func resourceRef(p *authz.Principal, m *Match, id string) (*authz.ResourceRef, string) {
	own := p.Cred.Account.ID
	if m.Perm.Name == permission.BotConstrained {
		return &authz.ResourceRef{Type: "account", ID: own}, id
	}
	if id != "" {
		return &authz.ResourceRef{Type: m.Route.Type(m.Perm), ID: id}, ""
	}
	switch m.Perm.Level {
	case permission.LevelAccount:
		return &authz.ResourceRef{Type: "account", ID: own}, ""
	case permission.LevelEnterprise:
		if p.Cred.Account.Type == store.OwnerEnterprise {
			return &authz.ResourceRef{Type: "enterprise", ID: own}, ""
		}
	}
	return nil, ""
}

func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(g.o.Upstream)
	pr.SetXForwarded()
	if f, ok := pr.In.Context().Value(forwardKey{}).(*forward); ok {
		f.apply(pr.Out.Header)
	}
}

// modifyResponse keeps the gateway's log ID as the one the client sees (the
// upstream's stays in its body); the upstream got ours in the request.
func modifyResponse(resp *http.Response) error {
	resp.Header.Del(logid.Header)
	return nil
}

func tooLarge(limit int64) *openapi.Error {
	return &openapi.Error{Code: openapi.CodeBadRequest, Status: http.StatusRequestEntityTooLarge,
		Msg: fmt.Sprintf("request body is larger than %d bytes", limit)}
}

// bufferPool lends the proxy its copy buffers, which it would otherwise
// allocate (32 KiB) for every response.
type bufferPool struct{}

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufferPool) Get() []byte  { return *copyBuffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { copyBuffers.Put(&b) }

// bodyWatch remembers that the body went over the limit, which the proxy's
// transport reports only as a broken request.
type bodyWatch struct {
	io.ReadCloser
	tooBig atomic.Bool
}

func (b *bodyWatch) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && errors.As(err, &mbe) {
		b.tooBig.Store(true)
	}
	return n, err
}

// upstreamError answers a failed exchange with the upstream in Coze's shape,
// with the log ID; the cause is logged, not sent.
func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	f, _ := r.Context().Value(forwardKey{}).(*forward)
	var ne net.Error
	var e *openapi.Error
	switch {
	case f != nil && f.body.tooBig.Load():
		e = tooLarge(g.o.MaxBody)
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
		g.o.Log.InfoContext(r.Context(), "client left during a proxied request", "logid", logid.From(r.Context()), "err", err)
		return
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		e = &openapi.Error{Code: CodeGatewayTimeout, Status: http.StatusGatewayTimeout,
			Msg: fmt.Sprintf("the upstream did not answer within %s", g.o.Timeout), Err: err}
	default:
		e = &openapi.Error{Code: CodeBadGateway, Status: http.StatusBadGateway, Msg: "the upstream could not be reached", Err: err}
	}
	g.o.Log.WarnContext(r.Context(), "proxied request failed", "logid", logid.From(r.Context()), "path", r.URL.Path, "err", err)
	g.fail(w, r, e)
}
