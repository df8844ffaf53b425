// Package logid gives every request a log ID, sent back in the X-Tt-Logid
// header (and in Coze envelopes as detail.logid) and attached to log lines, so
// a user's error report can be found in the logs.
package logid

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"sync/atomic"
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
	var buf [len(stampLayout) + 2*len(b)]byte
	copy(buf[:], stampOf(now))
	hex.Encode(buf[len(stampLayout):], b[:])
	return string(buf[:])
}

const stampLayout = "20060102150405"

// stamp is the last second's timestamp text: formatting it once a second
// instead of per request.
type stamp struct {
	sec  int64
	text string
}

var lastStamp atomic.Pointer[stamp]

func stampOf(now time.Time) string {
	sec := now.Unix()
	if s := lastStamp.Load(); s != nil && s.sec == sec {
		return s.text
	}
	s := &stamp{sec: sec, text: now.UTC().Format(stampLayout)}
	lastStamp.Store(s)
	return s.text
}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context { return context.WithValue(ctx, key{}, id) }

// From returns the log ID in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(key{}).(string)
	return id
}
