package store

import (
	"crypto/rand"
	"math/big"
	"strconv"
)

// idBase and idSpan make IDs 19-digit numeric strings like Coze's
// (7351234567890123456): numeric so every SDK's string fields accept them.
var (
	idBase = big.NewInt(7_000_000_000_000_000_000)
	idSpan = big.NewInt(2_000_000_000_000_000_000)
)

// NewID returns a random numeric-string ID (about 61 bits of randomness).
func NewID() string {
	n, err := rand.Int(rand.Reader, idSpan)
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics itself).
		panic("crypto/rand: " + err.Error())
	}
	return strconv.FormatInt(n.Add(n, idBase).Int64(), 10)
}
