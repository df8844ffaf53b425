package web

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
)

// A page that shows a secret once (a new token, client secret or private
// key) is reached by POST → 303 → GET: the POST creates the secret and stores
// the page's data as the session's one-time flash; the GET takes it. Reloading
// the page repeats only the GET, which finds no flash and says the value was
// already shown, instead of resubmitting the form and minting another secret
// nobody sees (issue 12.3). The flash is sealed with AES-256-GCM under a key
// derived (HKDF-SHA256) from the session cookie, which the database never
// holds: a database row reveals nothing, and another session cannot open it.

const flashInfo = "cozeauth flash v1"

func flashAEAD(cookie string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(cookie), nil, flashInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

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
	plain, err := json.Marshal(flash{Kind: kind, View: v})
	if err != nil {
		return err
	}
	aead, err := flashAEAD(sess.cookie)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	sealed := base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(sess.IDHash)))
	return h.Store.SetSessionFlash(r.Context(), sess.IDHash, sealed)
}

// takeFlash takes the session's flash into view if it is for page kind, and
// reports whether it was. The flash is gone afterwards either way.
func (h *Handler) takeFlash(r *http.Request, sess *session, kind string, view any) (bool, error) {
	sealed, err := h.Store.TakeSessionFlash(r.Context(), sess.IDHash)
	if err != nil || sealed == "" {
		return false, err
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return false, err
	}
	aead, err := flashAEAD(sess.cookie)
	if err != nil {
		return false, err
	}
	if len(raw) < aead.NonceSize() {
		return false, errors.New("sealed flash too short")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(sess.IDHash))
	if err != nil {
		return false, err
	}
	var f flash
	if err := json.Unmarshal(plain, &f); err != nil || f.Kind != kind {
		return false, err
	}
	return true, json.Unmarshal(f.View, view)
}
