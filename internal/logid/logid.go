// Package logid gives every request a log ID, sent back in the X-Tt-Logid
// header (and in Coze envelopes as detail.logid) and attached to log lines, so
// a user's error report can be found in the logs.
package logid

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"time"
)

// Header is the response header every Coze SDK reads the log ID from.
const Header = "X-Tt-Logid"

type key struct{}

// Key is the context key of the log ID (a string), for a context type that
// carries the ID itself rather than through With.
var Key any = key{}

// New returns an ID shaped like Coze's: a UTC timestamp and 20 hex digits.
// It is a correlation ID, not a secret, so a fast PRNG is fine.
func New(now time.Time) string {
	var b [10]byte
	u1, u2 := rand.Uint64(), rand.Uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(u1 >> (8 * i))
	}
	b[8], b[9] = byte(u2), byte(u2>>8)
	buf := make([]byte, 0, 34)
	buf = now.UTC().AppendFormat(buf, "20060102150405")
	return string(hex.AppendEncode(buf, b[:]))
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From returns the log ID in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
