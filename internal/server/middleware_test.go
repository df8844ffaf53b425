package server

import (
	"context"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/logid"
	"github.com/cozeauth/cozeauth/internal/openapi"
	"github.com/cozeauth/cozeauth/internal/store"
)

type parentKey struct{}

// TestRequestContext: the middleware's one-allocation context answers what
// logid.With, store.WithCallTimeout, store.WithActor and the outcome would,
// lets later WithActor calls override its actor, and passes every other key
// (and the call bound when it has none) to its parent.
func TestRequestContext(t *testing.T) {
	parent := store.WithCallTimeout(context.WithValue(context.Background(), parentKey{}, "p"), time.Minute)
	for _, tc := range []struct {
		name      string
		bound     time.Duration
		wantBound time.Duration
	}{
		{"with a bound", time.Second, time.Second},
		{"without one: the parent's", 0, time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rq := &request{}
			rq.ctx = requestContext{Context: parent, id: "L1", outcome: &rq.outcome}
			actor := store.Actor{Type: store.ActorAnonymous, IP: "198.51.100.7", LogID: "L1"}
			rq.ctx.store.Set(tc.bound, actor)
			var ctx context.Context = &rq.ctx
			if got := logid.From(ctx); got != "L1" {
				t.Errorf("log ID %q", got)
			}
			if got := store.ActorFrom(ctx); got != actor {
				t.Errorf("actor %+v", got)
			}
			if got := store.CallTimeout(ctx); got != tc.wantBound {
				t.Errorf("call timeout %v, want %v", got, tc.wantBound)
			}
			if got := ctx.Value(openapi.OutcomeKey); got != &rq.outcome {
				t.Errorf("outcome %v", got)
			}
			if got := ctx.Value(parentKey{}); got != "p" {
				t.Errorf("parent's value %v", got)
			}
			store.MarkCallTimedOut(ctx)
			if !store.CallTimedOut(ctx) {
				t.Error("the call bound forgot its time-out")
			}
			user := store.Actor{Type: store.ActorUser, ID: "u1"}
			if got := store.ActorFrom(store.WithActor(ctx, user)); got != user {
				t.Errorf("actor after WithActor %+v", got)
			}
		})
	}
}
