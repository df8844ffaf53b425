package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cozeauth/cozeauth/internal/oauth"
	"github.com/cozeauth/cozeauth/internal/samples"
	"github.com/cozeauth/cozeauth/internal/store"
)

// formAppSample guards the sample download form.
const formAppSample = "app-sample"

// langLabels are the language names the download page shows.
var langLabels = map[string]string{"python": "Python", "javascript": "JavaScript (Node.js)", "go": "Go", "java": "Java"}

type sampleLangView struct {
	Value, InputID, Label string
	Checked               bool
}

type sampleView struct {
	AppID, AppName string
	Refused        string // catalog key: the app cannot have a sample
	Config         samples.Config
	Redirect       bool   // web or pkce: a redirect URI is involved
	RedirectURI    string // of the chosen port
	Registered     bool   // the app already has RedirectURI
	Register       bool   // the checkbox
	Port           string
	Secret, Key    bool // a web app gets a new secret, a jwt app a new key pair
	Langs          []sampleLangView
	Action, CSRF   string
	Errors         map[string]string // field → catalog key
	WillFail       bool              // unticked and not registered: ask before downloading
}

func (h *Handler) maker() *samples.Maker {
	return &samples.Maker{Mint: h.OAuth, Store: h.Store, PublicURL: h.OAuth.PublicURL, Now: h.Now}
}

// sampleForm is what the download form posts.
type sampleForm struct {
	Lang, Port string
	Register   bool
	Confirm    bool // "Download anyway" after the will-fail warning
}

func (h *Handler) renderSample(w http.ResponseWriter, r *http.Request, status int, sess *session, app store.App, sf sampleForm, errs map[string]string, willFail bool) {
	l := h.langOf(w, r)
	back := appsPath + "/" + url.PathEscape(app.ID) + "/sample"
	sv := sampleView{AppID: app.ID, AppName: app.Name, Action: back, CSRF: sess.csrf(formAppSample), Errors: errs,
		Port: sf.Port, Register: sf.Register, WillFail: willFail}
	cfg, err := h.maker().Preview(app)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	sv.Config = cfg
	if !app.Active {
		sv.Refused = "sample.deactivated"
		status = http.StatusConflict
	}
	sv.Redirect = oauth.UsesRedirect(app.ClientType)
	port, perr := strconv.Atoi(sf.Port)
	if perr != nil || samples.CheckPort(port) != nil || port == 0 {
		port = samples.DefaultPort
	}
	sv.RedirectURI = samples.RedirectURI(port)
	sv.Registered = slices.Contains(app.RedirectURIs, sv.RedirectURI)
	sv.Secret, sv.Key = cfg.ClientType == "web", cfg.ClientType == "jwt"
	for _, lang := range samples.Languages {
		sv.Langs = append(sv.Langs, sampleLangView{Value: lang, InputID: "lang-" + lang, Label: langLabels[lang], Checked: lang == sf.Lang})
	}
	v := h.consoleView(l, sess, "apps", "sample.title", app.Name)
	v.P = sv
	h.render(w, r, status, "console_app_sample", v, back)
}

func (h *Handler) appSample(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	h.renderSample(w, r, http.StatusOK, sess, app, sampleForm{Lang: "python", Port: strconv.Itoa(samples.DefaultPort), Register: true}, nil, false)
}

func (h *Handler) appSampleDownload(w http.ResponseWriter, r *http.Request, sess *session) {
	app, ok := h.ownApp(w, r, sess)
	if !ok {
		return
	}
	f := r.PostForm
	sf := sampleForm{Lang: f.Get("lang"), Port: strings.TrimSpace(f.Get("port")), Register: f.Get("register_redirect") == "1",
		Confirm: f.Get("confirm") == "1"}
	if !app.Active {
		h.renderSample(w, r, http.StatusConflict, sess, app, sf, nil, false)
		return
	}
	errs := map[string]string{}
	if samples.CheckLanguage(sf.Lang) != nil {
		errs["lang"] = "sample.err.lang"
	}
	port := samples.DefaultPort
	if oauth.UsesRedirect(app.ClientType) {
		if sf.Port == "" {
			sf.Port = strconv.Itoa(samples.DefaultPort)
		}
		p, err := strconv.Atoi(sf.Port)
		if err != nil || p < 1 || p > 65535 {
			errs["port"] = "sample.err.port"
		} else {
			port = p
		}
	}
	if len(errs) > 0 {
		h.renderSample(w, r, http.StatusBadRequest, sess, app, sf, errs, false)
		return
	}
	if oauth.UsesRedirect(app.ClientType) && !sf.Register && !sf.Confirm && !slices.Contains(app.RedirectURIs, samples.RedirectURI(port)) {
		h.renderSample(w, r, http.StatusOK, sess, app, sf, nil, true)
		return
	}
	res, err := h.maker().Make(r.Context(), samples.Request{App: app, Lang: sf.Lang, Port: port, RegisterRedirect: sf.Register})
	if errors.Is(err, samples.ErrDeactivated) {
		h.renderSample(w, r, http.StatusConflict, sess, app, sf, nil, false)
		return
	}
	if err != nil {
		h.internal(w, r, err)
		return
	}
	h.Invalidate()
	hd := w.Header()
	hd.Set("Content-Type", "application/zip")
	hd.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", res.Filename))
	hd.Set("Content-Length", strconv.Itoa(len(res.Zip)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.Zip)
}
