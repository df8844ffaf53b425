package gateway

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cozeauth/cozeauth/internal/cache"
	"github.com/cozeauth/cozeauth/internal/store"
)

// Sealer encrypts users' upstream tokens with AES-256-GCM (Go's standard
// library) under the server's secret key. The user ID is the additional data,
// so a sealed value copied to another user's row does not open.
type Sealer struct{ aead cipher.AEAD }

const sealedPrefix = "v1:"

// NewSealer takes a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// LoadSealer reads a key file: 32 bytes as 64 hex digits or as base64
// (surrounding white space ignored), e.g. made with `openssl rand -hex 32`.
func LoadSealer(path string) (*Sealer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	var key []byte
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		key = k
	} else if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		key = k
	} else {
		return nil, fmt.Errorf("secret key file %s: want 32 bytes as 64 hex digits or base64 (openssl rand -hex 32)", path)
	}
	return NewSealer(key)
}

// Seal encrypts a user's token.
func (s *Sealer) Seal(userID, token string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	ct := s.aead.Seal(nonce, nonce, []byte(token), []byte(userID))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(ct), nil
}

// ErrUnseal: the sealed value does not open with this key for this user.
var ErrUnseal = errors.New("upstream token does not decrypt with the secret key (was the key changed?)")

// Open decrypts a sealed token.
func (s *Sealer) Open(userID, sealed string) (string, error) {
	b64, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", ErrUnseal
	}
	ct, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(ct) < s.aead.NonceSize() {
		return "", ErrUnseal
	}
	pt, err := s.aead.Open(nil, ct[:s.aead.NonceSize()], ct[s.aead.NonceSize():], []byte(userID))
	if err != nil {
		return "", ErrUnseal
	}
	return string(pt), nil
}

// StoredTokens reads users' sealed upstream tokens through a cache dropped
// with the store's revision (setting a token advances it).
type StoredTokens struct {
	Store  store.UpstreamTokens
	Sealer *Sealer
	cache  *cache.Cache[string, tokenEntry]
}

type tokenEntry struct {
	token string
	ok    bool
}

// NewStoredTokens returns the per-user token source; absent tokens are
// cached too (the revision drops them when one is set).
func NewStoredTokens(s store.UpstreamTokens, sealer *Sealer, gen *cache.Generation) *StoredTokens {
	return &StoredTokens{Store: s, Sealer: sealer, cache: cache.New[string, tokenEntry](gen, 100_000)}
}

// UpstreamToken implements UserTokens.
func (t *StoredTokens) UpstreamToken(ctx context.Context, userID string) (string, bool, error) {
	e, err := cache.Load(t.cache, userID, func() (tokenEntry, error) {
		sealed, err := t.Store.GetUpstreamToken(ctx, userID)
		if errors.Is(err, store.ErrNotFound) {
			return tokenEntry{}, nil
		}
		if err != nil {
			return tokenEntry{}, err
		}
		tok, err := t.Sealer.Open(userID, sealed)
		if err != nil {
			return tokenEntry{}, fmt.Errorf("user %s: %w", userID, err)
		}
		return tokenEntry{token: tok, ok: true}, nil
	})
	return e.token, e.ok, err
}
