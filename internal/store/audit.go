package store

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Actor types of audit events.
const (
	ActorUser   = "user"   // a signed-in user of the console or consent pages
	ActorCLI    = "cli"    // the admin CLI (ActorID is "")
	ActorSystem = "system" // the server itself, or a caller that set no actor
	// ActorAnonymous is an HTTP client without a session (a sign-in attempt).
	ActorAnonymous = "anonymous"
	// ActorApp is an OAuth client acting for itself (RFC 7009 revocation);
	// ActorID is the app's ID.
	ActorApp = "app"
)

// Actor is who makes the changes of a request: it rides on the context so the
// services that write audit events need no extra parameters.
type Actor struct {
	ID    string // user ID, "" for the CLI or the system
	Type  string // ActorUser, ActorCLI or ActorSystem
	IP    string // client IP of an HTTP request
	LogID string // the request's log ID
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor on ctx; without one it is the system.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	if a.Type == "" {
		a.Type = ActorSystem
		if a.ID != "" {
			a.Type = ActorUser
		}
	}
	return a
}

// NewAuditEvent builds an event for the actor on ctx. detail is marshalled to
// a JSON object; it must never hold a secret, token or password.
func NewAuditEvent(ctx context.Context, at int64, action, targetType, targetID, enterpriseID string, detail map[string]any) AuditEvent {
	a := ActorFrom(ctx)
	d := "{}"
	if len(detail) > 0 {
		if b, err := json.Marshal(detail); err == nil {
			d = string(b)
		}
	}
	return AuditEvent{ID: NewAuditID(), At: at, ActorID: a.ID, ActorType: a.Type, Action: action,
		TargetType: targetType, TargetID: targetID, EnterpriseID: enterpriseID, IP: a.IP, LogID: a.LogID, Detail: d}
}

var lastAuditID atomic.Int64

// NewAuditID returns a numeric-string ID that grows with wall-clock time
// (nanoseconds, strictly increasing within a process), so events of the same
// second list in the order they happened.
func NewAuditID() string {
	for {
		last, n := lastAuditID.Load(), time.Now().UnixNano()
		if n <= last {
			n = last + 1
		}
		if lastAuditID.CompareAndSwap(last, n) {
			return strconv.FormatInt(n, 10)
		}
	}
}

// PendingAudit is an audit event waiting for the change it records. The
// backend appends it inside the transaction of the first write made with a
// context carrying it, so the event exists exactly when the change does.
type PendingAudit struct {
	mu    sync.Mutex
	event AuditEvent
	state int // 0 waiting, 1 in a transaction, 2 written
}

type pendingKey struct{}

// WithAudit returns ctx carrying e as the pending event of the change made
// with it. Store writes through the returned context append e in their
// transaction (once: later writes with the same context do not repeat it).
func WithAudit(ctx context.Context, e AuditEvent) context.Context {
	return context.WithValue(ctx, pendingKey{}, &PendingAudit{event: e})
}

// PendingAuditFrom returns the pending event on ctx, or nil.
func PendingAuditFrom(ctx context.Context) *PendingAudit {
	p, _ := ctx.Value(pendingKey{}).(*PendingAudit)
	return p
}

// Take returns the event to append in the caller's transaction, or false
// when it is written already (or in another transaction now). The caller
// reports the outcome with Done: true after a commit, false after a rollback.
func (p *PendingAudit) Take() (AuditEvent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state != 0 {
		return AuditEvent{}, false
	}
	p.state = 1
	return p.event, true
}

// Done ends the transaction that took the event.
func (p *PendingAudit) Done(committed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if committed {
		p.state = 2
	} else {
		p.state = 0
	}
}

// Written tells whether the event has been committed.
func (p *PendingAudit) Written() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == 2
}
