package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "cozeauth-go-client/1"

// maxResponse bounds how much of a response body is read. Identity responses
// are small; anything this large is not a Coze envelope.
const maxResponse = 8 << 20

// Client calls a Coze OpenAPI server. Create it with New; the zero value is
// not usable. A Client is safe for concurrent use.
type Client struct {
	baseURL   string
	http      *http.Client
	userAgent string
	// OAuth settings (oauth.go).
	wwwURL     string
	devicePoll time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the Client send its requests through hc (for
// timeouts, proxies, TLS settings or a test transport). A nil hc is ignored.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a Client for the server at baseURL, e.g.
// "http://127.0.0.1:8080" or "https://api.coze.com". A trailing slash is
// removed, so paths never start with "//". A base URL with a path prefix
// ("https://gw.example.com/coze") is kept as the prefix of every path.
//
// Without WithHTTPClient, requests go through an http.Client with a 30 s
// timeout; pass a context to bound individual calls more tightly.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		baseURL:   strings.TrimRight(strings.TrimSpace(baseURL), "/"),
		http:      &http.Client{Timeout: 30 * time.Second},
		userAgent: DefaultUserAgent,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the base URL requests are sent to, without a trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// Request is one OpenAPI call for Do.
type Request struct {
	Method string
	// Path is appended to the base URL; it starts with "/".
	Path  string
	Query url.Values
	// Token is sent as "Authorization: Bearer <Token>"; empty sends no
	// Authorization header.
	Token string
	// Body, when not nil, is encoded with encoding/json and sent as
	// application/json. Pass a json.RawMessage to send prepared JSON.
	Body any
}

// envelope is the Coze OpenAPI response body (WIRE.md §7). Code is a pointer
// so that a body without a code is told apart from code 0.
type envelope struct {
	Code   *int            `json:"code"`
	Msg    string          `json:"msg"`
	Data   json.RawMessage `json:"data"`
	Detail struct {
		LogID string `json:"logid"`
	} `json:"detail"`
}

// Do sends req and decodes the envelope's data into data (nil: ignore it).
// Any unsuccessful response is returned as an *APIError; transport failures
// are returned as they are (wrapped), so context errors stay testable with
// errors.Is.
//
// Do is the building block of the typed calls; use it for OpenAPI routes this
// package does not wrap.
func (c *Client) Do(ctx context.Context, req Request, data any) error {
	if !strings.HasPrefix(req.Path, "/") {
		return fmt.Errorf("coze: request path %q does not start with /", req.Path)
	}
	u := c.baseURL + req.Path
	if len(req.Query) > 0 {
		u += "?" + req.Query.Encode()
	}
	var body io.Reader
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return fmt.Errorf("coze: encoding the %s %s request body: %w", req.Method, req.Path, err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, u, body)
	if err != nil {
		return fmt.Errorf("coze: %w", err)
	}
	hr.Header.Set("Accept", "application/json")
	if req.Body != nil {
		hr.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return fmt.Errorf("coze: %s %s: %w", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return fmt.Errorf("coze: %s %s: reading the response (HTTP %d): %w", req.Method, req.Path, resp.StatusCode, err)
	}
	return decode(resp, raw, data)
}

// decode turns a response into data or an *APIError.
func decode(resp *http.Response, raw []byte, data any) error {
	apiErr := &APIError{HTTPStatus: resp.StatusCode, LogID: resp.Header.Get("X-Tt-Logid")}
	if len(raw) > maxResponse {
		apiErr.Msg = fmt.Sprintf("response body is larger than %d bytes", maxResponse)
		return apiErr
	}
	ct := resp.Header.Get("Content-Type")
	if !isJSON(ct) {
		apiErr.Msg = fmt.Sprintf("response is not JSON (Content-Type %q): %s", ct, snippet(raw))
		return apiErr
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		apiErr.Msg = fmt.Sprintf("response is not a JSON object (%v): %s", err, snippet(raw))
		return apiErr
	}
	if apiErr.LogID == "" {
		apiErr.LogID = env.Detail.LogID
	}
	switch {
	case env.Code != nil && *env.Code != 0:
		apiErr.Code, apiErr.Msg = *env.Code, env.Msg
		if apiErr.Msg == "" {
			apiErr.Msg = "(no message)"
		}
		return apiErr
	case resp.StatusCode >= 400:
		apiErr.Msg = env.Msg
		if apiErr.Msg == "" {
			apiErr.Msg = http.StatusText(resp.StatusCode)
		}
		return apiErr
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		apiErr.Msg = "unexpected HTTP status"
		return apiErr
	}
	if data == nil {
		return nil
	}
	if len(env.Data) == 0 || bytes.Equal(env.Data, []byte("null")) {
		apiErr.Msg = "successful response has no data"
		return apiErr
	}
	if err := json.Unmarshal(env.Data, data); err != nil {
		return fmt.Errorf("coze: decoding the response data (logid %s): %w", apiErr.LogID, err)
	}
	return nil
}

// isJSON reports whether a Content-Type is JSON. A missing Content-Type is
// given the benefit of the doubt; the body must still parse.
func isJSON(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// snippet is the start of a body for an error message.
func snippet(b []byte) string {
	const n = 200
	if len(b) == 0 {
		return "(empty body)"
	}
	s := string(b)
	if len(s) > n {
		s = s[:n]
		for !utf8.ValidString(s) && len(s) > 0 {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return fmt.Sprintf("%q", s)
}
