package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Visible token prefixes. OAuth access tokens use prefixes of their own and
// never "pat_" (WIRE.md §8.5).
const (
	PrefixPAT = "pat_"
	PrefixSAT = "sat_"
)

// secretBytes is the entropy of every minted token: 256 bits.
const secretBytes = 32

// NewToken returns prefix followed by 64 hex characters of fresh randomness.
func NewToken(prefix string) string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return prefix + hex.EncodeToString(b)
}

// NewOrderedToken returns prefix, an ordering key (a new ID: 19 digits,
// ordered by creation time) and 64 hex characters of fresh randomness. Hash
// puts the key in front of the stored form, so stored forms sort by creation
// time: a new one lands at the end of the unique index on stored hashes, on
// the page the last one dirtied, instead of on a random page of it that the
// write transaction must write out in full. It is for what every grant
// mints (OAuth tokens, authorization and device codes), whose rate on SQLite
// those page writes bounded. The key tells when the token was made, nothing
// of its 256 random bits.
func NewOrderedToken(prefix string) string { return NewToken(prefix + store.NewID()) }

// keyLen is the length of an ordering key: a store ID.
const keyLen = 19

// orderingKey is the ordering key of a token from NewOrderedToken, "" for
// any other: a 4-character prefix, 19 digits, then 64 characters.
func orderingKey(token string) string {
	if len(token) != 4+keyLen+2*secretBytes {
		return ""
	}
	key := token[4 : 4+keyLen]
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < '0' || c > '9' {
			return ""
		}
	}
	return key
}

// Hash is the stored form of a token: hex SHA-256 of the whole string,
// after its ordering key when it has one (NewOrderedToken).
func Hash(token string) string {
	// Tokens are under 128 bytes: copied to the stack, not the heap (a
	// plain []byte(token) is on the stack only up to 32 bytes).
	var in [128]byte
	sum := sha256.Sum256(append(in[:0], token...))
	var out [keyLen + 2*sha256.Size]byte // on the stack: one allocation, the string
	n := copy(out[:], orderingKey(token))
	hex.Encode(out[n:], sum[:])
	return string(out[:n+2*sha256.Size])
}

// HashesEqual compares two stored hashes in constant time.
func HashesEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// KindOf tells which credential kind a token's prefix announces.
func KindOf(token string) (store.CredentialKind, bool) {
	switch {
	case strings.HasPrefix(token, PrefixPAT):
		return store.KindPAT, true
	case strings.HasPrefix(token, PrefixSAT):
		return store.KindSAT, true
	}
	return "", false
}

// wellFormed reports whether token has the shape NewToken produces, so junk is
// rejected without touching the database.
func wellFormed(token string) bool {
	if len(token) != 4+2*secretBytes {
		return false
	}
	for i := 4; i < len(token); i++ {
		c := token[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
