package gotest

// A minimal browser for the server's HTML pages: net/http with a cookie jar,
// following redirects within the server and stopping at any other origin (the
// app's redirect URI, never requested), and a form parser that submits the
// real forms — hidden fields (CSRF included), checked radios and checkboxes,
// and the named button that was "clicked".

import (
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

type browser struct {
	t    *testing.T
	base *url.URL
	hc   *http.Client
	lang string // Accept-Language
	// signedIn: login succeeded, the session cookie is in the jar.
	signedIn bool
}

func newBrowser(t *testing.T, baseURL string) *browser {
	t.Helper()
	base, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, base: base, lang: "en"}
	b.hc = &http.Client{
		Timeout: httpc.Timeout,
		Jar:     jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != base.Host || len(via) >= 10 {
				return http.ErrUseLastResponse // leaving the server: capture the Location
			}
			return nil
		},
	}
	return b
}

// page is a response as the browser shows it.
type page struct {
	status   int
	url      *url.URL // after redirects within the server
	header   http.Header
	body     string
	location string // the Location of a redirect that left the server
}

func (p *page) String() string {
	s := p.body
	if len(s) > 3000 {
		s = s[:3000] + "…"
	}
	return "HTTP " + http.StatusText(p.status) + " " + p.url.String() + " location=" + p.location + "\n" + s
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	req.Header.Set("Accept-Language", b.lang)
	req.Header.Set("Accept", "text/html")
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("browser %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatalf("browser %s %s: reading: %v", req.Method, req.URL, err)
	}
	p := &page{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(body)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		p.location = resp.Header.Get("Location")
	}
	return p
}

func (b *browser) get(u string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.base.ResolveReference(mustURL(b.t, u)).String(), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(from *page, action string, vals url.Values) *page {
	b.t.Helper()
	target := from.url.ResolveReference(mustURL(b.t, action))
	req, err := http.NewRequest(http.MethodPost, target.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base.Scheme+"://"+b.base.Host) // a browser sends it on every form POST
	return b.do(req)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("bad URL %q: %v", s, err)
	}
	return u
}

// ---------------------------------------------------------------- forms

type input struct {
	typ, name, value, id string
	checked              bool
}

type button struct{ name, value, text string }

type form struct {
	action, method string
	inputs         []input
	buttons        []button
	labels         map[string]string // label text → the id it is for
}

var (
	formRe   = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	tagRe    = regexp.MustCompile(`(?is)<(input|button|label)\b([^>]*)>`)
	attrRe   = regexp.MustCompile(`(?s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)
	closeRe  = map[string]*regexp.Regexp{"button": regexp.MustCompile(`(?is)</button>`), "label": regexp.MustCompile(`(?is)</label>`)}
	stripRe  = regexp.MustCompile(`(?s)<[^>]*>`)
	spacesRe = regexp.MustCompile(`\s+`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRe.FindAllStringSubmatch(s, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
	}
	return m
}

func text(s string) string {
	return strings.TrimSpace(spacesRe.ReplaceAllString(html.UnescapeString(stripRe.ReplaceAllString(s, " ")), " "))
}

// forms parses every form of an HTML page.
func forms(body string) []*form {
	var out []*form
	for _, fm := range formRe.FindAllStringSubmatch(body, -1) {
		fa := attrs(fm[1])
		f := &form{action: fa["action"], method: strings.ToUpper(fa["method"]), labels: map[string]string{}}
		inner := fm[2]
		for _, loc := range tagRe.FindAllStringSubmatchIndex(inner, -1) {
			tag := strings.ToLower(inner[loc[2]:loc[3]])
			a := attrs(inner[loc[4]:loc[5]])
			content := ""
			if re := closeRe[tag]; re != nil {
				rest := inner[loc[1]:]
				if end := re.FindStringIndex(rest); end != nil {
					content = text(rest[:end[0]])
				}
			}
			_, checked := a["checked"]
			switch tag {
			case "input":
				typ := strings.ToLower(a["type"])
				if typ == "" {
					typ = "text"
				}
				if typ == "submit" {
					f.buttons = append(f.buttons, button{name: a["name"], value: a["value"], text: a["value"]})
					continue
				}
				f.inputs = append(f.inputs, input{typ: typ, name: a["name"], value: a["value"], id: a["id"], checked: checked})
			case "button":
				if t := strings.ToLower(a["type"]); t == "" || t == "submit" {
					f.buttons = append(f.buttons, button{name: a["name"], value: a["value"], text: content})
				}
			case "label":
				f.labels[content] = a["for"]
			}
		}
		out = append(out, f)
	}
	return out
}

// formWith returns the page's form that has a button with this text.
func (p *page) formWith(t *testing.T, buttonText string) *form {
	t.Helper()
	for _, f := range forms(p.body) {
		for _, b := range f.buttons {
			if b.text == buttonText {
				return f
			}
		}
	}
	t.Fatalf("no form with a %q button on the page:\n%s", buttonText, p)
	return nil
}

func (p *page) hasButton(text string) bool {
	for _, f := range forms(p.body) {
		for _, b := range f.buttons {
			if b.text == text {
				return true
			}
		}
	}
	return false
}

// field returns the name of the input labelled label.
func (f *form) field(t *testing.T, label string) string {
	t.Helper()
	id, ok := f.labels[label]
	if !ok {
		t.Fatalf("form %s has no label %q (labels %v)", f.action, label, f.labels)
	}
	for _, in := range f.inputs {
		if in.id == id {
			return in.name
		}
	}
	t.Fatalf("form %s: label %q is for #%s, which is not an input", f.action, label, id)
	return ""
}

// labelled returns the input labelled label (for radios and checkboxes).
func (f *form) labelled(t *testing.T, label string) input {
	t.Helper()
	id, ok := f.labels[label]
	if ok {
		for _, in := range f.inputs {
			if in.id == id {
				return in
			}
		}
	}
	t.Fatalf("form %s has no input labelled %q (labels %v)", f.action, label, f.labels)
	return input{}
}

// values are what the form sends as it stands: text and hidden inputs,
// checked radios and checkboxes.
func (f *form) values() url.Values {
	v := url.Values{}
	for _, in := range f.inputs {
		if in.name == "" {
			continue
		}
		switch in.typ {
		case "radio", "checkbox":
			if in.checked {
				v.Add(in.name, in.value)
			}
		default:
			v.Add(in.name, in.value)
		}
	}
	return v
}

// submit sends the form as if the user changed set (field name → values,
// replacing what was there) and clicked the button with this text.
func (f *form) submit(b *browser, from *page, set url.Values, buttonText string) *page {
	b.t.Helper()
	v := f.values()
	for k, vals := range set {
		if vals == nil {
			v.Del(k)
		} else {
			v[k] = vals
		}
	}
	found := false
	for _, bt := range f.buttons {
		if bt.text == buttonText {
			found = true
			if bt.name != "" {
				v.Set(bt.name, bt.value)
			}
		}
	}
	if !found {
		b.t.Fatalf("form %s has no %q button", f.action, buttonText)
	}
	if f.method != "" && f.method != http.MethodPost {
		b.t.Fatalf("form %s has method %s; only POST forms are driven", f.action, f.method)
	}
	return b.post(from, f.action, v)
}

// ---------------------------------------------------------------- flows

// login fills and submits the login form on p.
func (b *browser) login(p *page, username, password string) *page {
	b.t.Helper()
	f := p.formWith(b.t, "Sign in")
	p = f.submit(b, p, url.Values{
		f.field(b.t, "Username"): {username},
		f.field(b.t, "Password"): {password},
	}, "Sign in")
	if !strings.HasPrefix(p.url.Path, "/login") {
		b.signedIn = true
	}
	return p
}

// consent is what the user does on a consent page.
type consent struct {
	// account is the label of the account radio to choose; "" keeps the default.
	account string
	// workspaces are the workspace labels to tick ("selected"); nil keeps
	// "All workspaces" when the page asks.
	workspaces []string
	cancel     bool
}

// decide submits the consent form on p.
func (b *browser) decide(p *page, c consent) *page {
	b.t.Helper()
	btn := "Authorize"
	if c.cancel {
		btn = "Cancel"
	}
	f := p.formWith(b.t, btn)
	set := url.Values{}
	account := f.values().Get("account")
	if c.account != "" {
		in := f.labelled(b.t, c.account)
		account = in.value
		set.Set(in.name, in.value)
	}
	if c.workspaces != nil {
		set.Set("workspaces", "selected")
		var ids []string
		for _, label := range c.workspaces {
			in := f.labelled(b.t, label)
			if in.typ != "checkbox" {
				b.t.Fatalf("workspace %q is a %s input, want a checkbox", label, in.typ)
			}
			if in.name != "ws."+account {
				b.t.Fatalf("workspace %q belongs to %s, not to the chosen account %s", label, in.name, account)
			}
			ids = append(ids, in.value)
		}
		set["ws."+account] = ids
	}
	return f.submit(b, p, set, btn)
}

// authorizeCode drives the browser part of the code flow: open authURL, sign
// in as user if the browser is not signed in yet, decide on the consent page,
// and return the query of the redirect to the app (code and state, or error).
func authorizeCode(t *testing.T, b *browser, authURL, user string, c consent) url.Values {
	t.Helper()
	p := b.get(authURL)
	if !b.signedIn {
		if p.status != http.StatusOK || !strings.HasPrefix(p.url.Path, "/login") {
			t.Fatalf("opening the authorization URL: want the login page, got:\n%s", p)
		}
		p = b.login(p, user, testPassword)
	}
	if p.status != http.StatusOK || !p.hasButton("Authorize") {
		t.Fatalf("want the consent page, got:\n%s", p)
	}
	checkConsentHeaders(t, p)
	p = b.decide(p, c)
	return redirectQuery(t, p)
}

// redirectQuery checks p is a redirect to the app (the test redirect URI)
// and returns its query.
func redirectQuery(t *testing.T, p *page) url.Values {
	t.Helper()
	if p.location == "" {
		t.Fatalf("want a redirect to the app, got:\n%s", p)
	}
	u := mustURL(t, p.location)
	if u.Host != redirectHost {
		t.Fatalf("redirect to %s, want the app's redirect URI", p.location)
	}
	return u.Query()
}

// checkConsentHeaders: the consent page must not be framable.
func checkConsentHeaders(t *testing.T, p *page) {
	t.Helper()
	xfo := p.header.Get("X-Frame-Options")
	csp := p.header.Get("Content-Security-Policy")
	if !strings.EqualFold(xfo, "DENY") && !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("consent page is framable: X-Frame-Options %q, CSP %q", xfo, csp)
	}
}

// approveDevice drives the device verification: open the verification URL
// (code pre-filled), sign in, Continue, then Authorize or Cancel. It returns
// the final page.
func approveDevice(t *testing.T, b *browser, verificationURL, user string, c consent) *page {
	t.Helper()
	p := b.get(verificationURL)
	if !b.signedIn {
		if !strings.HasPrefix(p.url.Path, "/login") {
			t.Fatalf("device page without a session: want the login page, got:\n%s", p)
		}
		p = b.login(p, user, testPassword)
	}
	if p.status != http.StatusOK || !p.hasButton("Continue") {
		t.Fatalf("device page: want the user code form, got:\n%s", p)
	}
	f := p.formWith(t, "Continue")
	if got := f.values().Get(f.field(t, "User code")); got == "" {
		t.Errorf("device page: the user code is not pre-filled from ?user_code=")
	}
	p = f.submit(b, p, nil, "Continue")
	if p.status != http.StatusOK || !p.hasButton("Authorize") {
		t.Fatalf("device consent: want the consent page, got:\n%s", p)
	}
	p = b.decide(p, c)
	if p.status != http.StatusOK {
		t.Fatalf("device decision: got:\n%s", p)
	}
	return p
}
