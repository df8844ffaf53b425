package credential

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestHash(t *testing.T) {
	for _, tc := range []struct {
		name   string
		token  string
		key    string // the stored form's ordering key
		allocs float64
	}{
		{"short", "pat_x", "", 1},
		{"PAT", NewToken(PrefixPAT), "", 1},
		{"past the stack buffer", "pat_" + strings.Repeat("a", 300), "", 2},
		{"ordered", "czu_7351234567890123456" + strings.Repeat("ab", 32), "7351234567890123456", 1},
		{"ordered shape, not digits", "czu_735123456789012345x" + strings.Repeat("ab", 32), "", 1},
		{"ordered key, one character short", "czu_7351234567890123456" + strings.Repeat("ab", 31) + "a", "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := sha256.Sum256([]byte(tc.token))
			if got, want := Hash(tc.token), tc.key+hex.EncodeToString(sum[:]); got != want {
				t.Fatalf("Hash = %s, want %s", got, want)
			}
			if n := testing.AllocsPerRun(100, func() { _ = Hash(tc.token) }); n > tc.allocs {
				t.Errorf("Hash makes %v allocations, want at most %v", n, tc.allocs)
			}
		})
	}
}

// Stored forms of ordered tokens sort by creation: each new one after the
// last, where an index on them gains it on the page it last wrote.
func TestOrderedTokensSortByCreation(t *testing.T) {
	prev := ""
	for i := range 5000 {
		tok := NewOrderedToken("czr_")
		if !strings.HasPrefix(tok, "czr_") || len(tok) != 4+keyLen+2*secretBytes {
			t.Fatalf("token %q: want czr_, 19 digits and 64 hex characters", tok)
		}
		h := Hash(tok)
		if h <= prev {
			t.Fatalf("token %d: stored form %s sorts before the one minted before it, %s", i, h, prev)
		}
		prev = h
	}
}
