package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cozeauth/cozeauth/internal/oauth"
)

type deviceView struct {
	CSRF     string
	UserCode string
	Error    string // catalog key
}

type deviceDoneView struct{ Approved bool }

func deviceURL(code string) string {
	if code == "" {
		return oauth.VerificationPath
	}
	return oauth.VerificationPath + "?user_code=" + url.QueryEscape(code)
}

// devicePage serves GET /device, the verification page (RFC 8628 §3.3);
// ?user_code= only pre-fills it: the user still confirms (§5.4).
func (h *Handler) devicePage(w http.ResponseWriter, r *http.Request) {
	sess, err := h.currentSession(r)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	code := r.URL.Query().Get("user_code")
	if sess == nil {
		http.Redirect(w, r, loginURL(deviceURL(code)), http.StatusFound)
		return
	}
	h.renderDevice(w, r, http.StatusOK, sess, code, "")
}

func (h *Handler) renderDevice(w http.ResponseWriter, r *http.Request, status int, sess *session, code, errKey string) {
	l := h.langOf(w, r)
	v := h.baseView(l, sess, "device.title")
	v.P = deviceView{CSRF: sess.csrf(formDevice), UserCode: code, Error: errKey}
	h.render(w, r, status, "device", v, deviceURL(code))
}

// postedSession returns the session of a POST whose CSRF token for label is
// valid; otherwise it has answered 403.
func (h *Handler) postedSession(w http.ResponseWriter, r *http.Request, label string) *session {
	sess, err := h.currentSession(r)
	if err != nil {
		h.internal(w, r, err)
		return nil
	}
	if sess == nil || !sess.checkCSRF(r, label) {
		h.forbidden(w, r)
		return nil
	}
	return sess
}

// lookup finds the pending device request of the posted code, or shows the
// device page again with the error next to the field.
func (h *Handler) lookup(w http.ResponseWriter, r *http.Request, sess *session) *oauth.DevicePrompt {
	code := r.PostFormValue("user_code")
	if code == "" {
		h.renderDevice(w, r, http.StatusBadRequest, sess, code, "device.missing")
		return nil
	}
	// RFC 8628 §5.1: a session (or client IP) that guessed wrong too often
	// is stopped, and then even the right code is refused until its window
	// ends, so guessing cannot go on in the background of real use.
	now, ip := h.Now(), h.ClientIP.IP(r)
	blocked, wait := h.guesses.session.Blocked(now, sess.IDHash)
	if !blocked {
		blocked, wait = h.guesses.ip.Blocked(now, ip)
	}
	if blocked {
		w.Header().Set("Retry-After", strconv.FormatInt(max(int64((wait+time.Second-1)/time.Second), 1), 10))
		h.renderDevice(w, r, http.StatusTooManyRequests, sess, code, "device.too_many")
		return nil
	}
	p, err := h.OAuth.LookupDevice(r.Context(), code)
	if errors.Is(err, oauth.ErrUnknownUserCode) {
		h.guesses.session.Fail(now, sess.IDHash)
		h.guesses.ip.Fail(now, ip)
		h.renderDevice(w, r, http.StatusBadRequest, sess, code, "device.unknown")
		return nil
	}
	if err != nil {
		h.internal(w, r, err)
		return nil
	}
	return p
}

// deviceLookup serves POST /device: the code is checked, then the consent
// page for the device's app is shown.
func (h *Handler) deviceLookup(w http.ResponseWriter, r *http.Request) {
	sess := h.postedSession(w, r, formDevice)
	if sess == nil {
		return
	}
	if p := h.lookup(w, r, sess); p != nil {
		h.renderDeviceConsent(w, r, http.StatusOK, sess, p, nil, nil)
	}
}

func (h *Handler) renderDeviceConsent(w http.ResponseWriter, r *http.Request, status int, sess *session, p *oauth.DevicePrompt, form url.Values, errs map[string]string) {
	l := h.langOf(w, r)
	opts, err := h.OAuth.Options(r.Context(), sess.User.ID, p.App, p.WorkspaceID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	cv := buildConsent(l, h.Catalog, p.App, opts, p.WorkspaceID, form)
	cv.Action = oauth.VerificationPath + "/consent"
	cv.CSRF = sess.csrf(formDeviceConsent)
	cv.Errors = errs
	cv.UserCode = p.UserCode
	cv.Hidden = []hiddenField{{"user_code", p.UserCode}}
	v := h.baseView(l, sess, "consent.title", p.App.Name)
	v.P = cv
	h.render(w, r, status, "consent", v, deviceURL(p.UserCode))
}

// deviceConsent serves POST /device/consent: approve or refuse.
func (h *Handler) deviceConsent(w http.ResponseWriter, r *http.Request) {
	sess := h.postedSession(w, r, formDeviceConsent)
	if sess == nil {
		return
	}
	p := h.lookup(w, r, sess)
	if p == nil {
		return
	}
	if r.PostFormValue("action") == "cancel" {
		err := h.OAuth.DenyDevice(r.Context(), p)
		h.deviceDone(w, r, sess, p, false, err)
		return
	}
	err := h.OAuth.ApproveDevice(r.Context(), p, choiceFrom(r.PostForm, sess.User.ID))
	var ce *oauth.ChoiceError
	if errors.As(err, &ce) {
		h.renderDeviceConsent(w, r, http.StatusBadRequest, sess, p, r.PostForm, choiceErrorKey(ce))
		return
	}
	h.deviceDone(w, r, sess, p, true, err)
}

func (h *Handler) deviceDone(w http.ResponseWriter, r *http.Request, sess *session, p *oauth.DevicePrompt, approved bool, err error) {
	switch {
	case errors.Is(err, oauth.ErrUnknownUserCode): // decided or expired meanwhile
		h.renderDevice(w, r, http.StatusBadRequest, sess, p.UserCode, "device.unknown")
		return
	case err != nil:
		h.internal(w, r, err)
		return
	}
	l := h.langOf(w, r)
	title := "device.denied.title"
	if approved {
		title = "device.approved.title"
	}
	v := h.baseView(l, sess, title)
	v.P = deviceDoneView{Approved: approved}
	h.render(w, r, http.StatusOK, "device_done", v, oauth.VerificationPath)
}
