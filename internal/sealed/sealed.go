// Package sealed encrypts a small JSON value under a key derived from a
// secret the database never holds (a session cookie, a refresh token), so a
// stored row reveals nothing and only that secret's holder can open it:
// AES-256-GCM under HKDF-SHA256(secret, info), a random nonce, the result
// base64url-encoded. The standard library does the cryptography.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

func aead(secret, info string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, info, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Seal encrypts v's JSON under the key of (secret, info), binding ad
// (additional data that Open must be given again).
func Seal(secret, info, ad string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	a, err := aead(secret, info)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, a.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(a.Seal(nonce, nonce, plain, []byte(ad))), nil
}

// Open decrypts what Seal made with the same secret, info and ad into v.
func Open(secret, info, ad, s string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	a, err := aead(secret, info)
	if err != nil {
		return err
	}
	if len(raw) < a.NonceSize() {
		return errors.New("sealed value too short")
	}
	plain, err := a.Open(nil, raw[:a.NonceSize()], raw[a.NonceSize():], []byte(ad))
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, v)
}
