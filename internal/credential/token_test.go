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
		allocs float64
	}{
		{"short", "pat_x", 1},
		{"PAT", NewToken(PrefixPAT), 1},
		{"past the stack buffer", "pat_" + strings.Repeat("a", 300), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sum := sha256.Sum256([]byte(tc.token))
			if got, want := Hash(tc.token), hex.EncodeToString(sum[:]); got != want {
				t.Fatalf("Hash = %s, want %s", got, want)
			}
			if n := testing.AllocsPerRun(100, func() { _ = Hash(tc.token) }); n > tc.allocs {
				t.Errorf("Hash makes %v allocations, want at most %v", n, tc.allocs)
			}
		})
	}
}
