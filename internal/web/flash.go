package web

import (
	"encoding/json"
	"net/http"

	"github.com/cozeauth/cozeauth/internal/sealed"
)

// A page that shows a secret once (a new token, client secret or private
// key) is reached by POST → 303 → GET: the POST creates the secret and stores
// the page's data as the session's one-time flash; the GET takes it. Reloading
// the page repeats only the GET, which finds no flash and says the value was
// already shown, instead of resubmitting the form and minting another secret
// nobody sees (issue 12.3). The flash is sealed (package sealed) under the
// session cookie, which the database never holds: a database row reveals
// nothing, and another session cannot open it.

const flashInfo = "cozeauth flash v1"

// flash is what a one-time page shows: which page (Kind) and its view.
type flash struct {
	Kind string          `json:"kind"`
	View json.RawMessage `json:"view"`
}

// setFlash seals view as the session's one-time flash for page kind.
func (h *Handler) setFlash(r *http.Request, sess *session, kind string, view any) error {
	v, err := json.Marshal(view)
	if err != nil {
		return err
	}
	sealedFlash, err := sealed.Seal(sess.cookie, flashInfo, sess.IDHash, flash{Kind: kind, View: v})
	if err != nil {
		return err
	}
	return h.Store.SetSessionFlash(r.Context(), sess.IDHash, sealedFlash)
}

// takeFlash takes the session's flash into view if it is for page kind, and
// reports whether it was. The flash is gone afterwards either way.
func (h *Handler) takeFlash(r *http.Request, sess *session, kind string, view any) (bool, error) {
	s, err := h.Store.TakeSessionFlash(r.Context(), sess.IDHash)
	if err != nil || s == "" {
		return false, err
	}
	var f flash
	if err := sealed.Open(sess.cookie, flashInfo, sess.IDHash, s, &f); err != nil || f.Kind != kind {
		return false, err
	}
	return true, json.Unmarshal(f.View, view)
}
