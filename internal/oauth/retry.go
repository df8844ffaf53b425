package oauth

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

// A refresh whose answer is lost (a crash after the commit, a dropped
// connection) leaves the client with a rotated token; presenting it again
// would be reuse and revoke the family. So a rotation keeps its answer,
// sealed with AES-256-GCM under a key derived (HKDF-SHA256) from the old
// refresh token, which the store never holds: only that token's holder can
// open it, within the retry window, and a leaked database row reveals
// nothing (issue 11.15).

const retryInfo = "cozeauth refresh retry v1"

func retryAEAD(oldRefresh string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(oldRefresh), nil, retryInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealRetry seals resp for a retry with oldRefresh.
func sealRetry(oldRefresh string, resp tokenResponse) (string, error) {
	aead, err := retryAEAD(oldRefresh)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(resp)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plain, []byte(retryInfo))), nil
}

// openRetry opens what sealRetry made with the same oldRefresh.
func openRetry(oldRefresh, sealed string) (tokenResponse, error) {
	var resp tokenResponse
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return resp, err
	}
	aead, err := retryAEAD(oldRefresh)
	if err != nil {
		return resp, err
	}
	if len(raw) < aead.NonceSize() {
		return resp, errors.New("sealed retry too short")
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(retryInfo))
	if err != nil {
		return resp, err
	}
	return resp, json.Unmarshal(plain, &resp)
}
