package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// ErrUnavailable: the database did not answer in time — every pooled
// connection stayed busy, or a query ran past its deadline. The request
// should be answered 503, to be retried, never left hanging.
var ErrUnavailable = errors.New("database unavailable")

// Unavailable reports whether err means the database did not answer in
// time: ErrUnavailable or a context deadline.
// ClientGone reports whether err is the cancellation of ctx, a request's
// context: its client went away (closed the connection) before the answer.
// Nothing went wrong on the server; handlers answer StatusClientClosed and
// do not log an error.
func ClientGone(ctx context.Context, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled)
}

// StatusClientClosed is the status recorded for a request whose client went
// away (nginx's 499); the client never sees it.
const StatusClientClosed = 499

func Unavailable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// callBound is what WithCallTimeout puts in a context.
type callBound struct {
	d        time.Duration
	timedOut atomic.Bool
}

type callBoundKey struct{}

// WithCallTimeout returns a context under which every store call is bounded
// by d on top of ctx's own deadline: a call ends after d at the latest
// (ErrUnavailable, or an error wrapping context.DeadlineExceeded), whether it
// waited for a connection or for a query. The server puts it on every
// request's context; background loops keep their own deadlines.
func WithCallTimeout(ctx context.Context, d time.Duration) context.Context {
	if d <= 0 {
		return ctx
	}
	return context.WithValue(ctx, callBoundKey{}, &callBound{d: d})
}

// CallTimeout returns the bound WithCallTimeout put on ctx (0: none).
func CallTimeout(ctx context.Context) time.Duration {
	if b, ok := ctx.Value(callBoundKey{}).(*callBound); ok {
		return b.d
	}
	return 0
}

// MarkCallTimedOut records on ctx (one from WithCallTimeout) that a store call
// ran out of its bound; stores call it.
func MarkCallTimedOut(ctx context.Context) {
	if b, ok := ctx.Value(callBoundKey{}).(*callBound); ok {
		b.timedOut.Store(true)
	}
}

// CallTimedOut reports whether a store call made under ctx ran out of the
// bound WithCallTimeout put on it. Error writers answer 503 then, whatever
// error the call's caller made of it; the server counts such requests.
func CallTimedOut(ctx context.Context) bool {
	b, ok := ctx.Value(callBoundKey{}).(*callBound)
	return ok && b.timedOut.Load()
}

// RequestValues are the store's values of one request's context (its call
// bound and its actor) for a context type that carries them in an allocation
// of its own, as the server's request context does: it answers Value for
// the store's keys with Lookup. It is what WithCallTimeout and WithActor on
// top of each other give, without their two allocations each.
type RequestValues struct {
	bound callBound
	actor Actor
}

// Set fills v: call bound d (0: none) and actor a.
func (v *RequestValues) Set(d time.Duration, a Actor) {
	v.bound.d = d
	v.actor = a
}

// Lookup answers ctx.Value(key) for the store's keys; ok is false for
// another key (and for the call bound when there is none), which the
// context answers as it would without v.
func (v *RequestValues) Lookup(key any) (value any, ok bool) {
	switch key.(type) {
	case callBoundKey:
		if v.bound.d > 0 {
			return &v.bound, true
		}
	case actorKey:
		return v.actor, true
	}
	return nil, false
}
