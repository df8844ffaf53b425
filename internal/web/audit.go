package web

import (
	"net/http"
	"sync"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

// Sign-in failures change nothing, so their events are written on their own,
// and bounded: a password-spraying client must not fill the disk. Each
// (client IP, username) gets at most one event per minute; the next one
// carries how many failures were not written in between ("suppressed").
// Across all keys at most failureEventsPerMinute events are written per
// minute and per process; beyond that failures are only counted, and the
// count goes into the next written event ("dropped"). The sign-in limiter
// (limit.go) bounds the attempts themselves.
const (
	failureEventsPerMinute = 120
	failureKeysMax         = 10000
)

type failureAudit struct {
	mu      sync.Mutex
	window  int64 // the minute (Unix seconds / 60) written counts
	written int   // events written in this window
	dropped int64 // failures not written because of the global cap, since the last event
	keys    map[string]*failureKey
}

type failureKey struct {
	writtenIn  int64 // the window of the key's last event
	suppressed int64 // failures since then without an event
}

// admit decides whether a failure for key gets an event now; suppressed and
// dropped are the counts to report in it.
func (f *failureAudit) admit(now time.Time, key string) (ok bool, suppressed, dropped int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := now.Unix() / 60
	if w != f.window || f.keys == nil {
		// A new minute: every key may write again; only unreported counts
		// are kept.
		keep := make(map[string]*failureKey)
		for k, v := range f.keys {
			if v.suppressed > 0 {
				keep[k] = v
			}
		}
		f.window, f.written, f.keys = w, 0, keep
	}
	k := f.keys[key]
	if k != nil && k.writtenIn == w {
		k.suppressed++
		return false, 0, 0
	}
	if f.written >= failureEventsPerMinute {
		f.dropped++
		return false, 0, 0
	}
	f.written++
	if k == nil && len(f.keys) < failureKeysMax {
		k = &failureKey{}
		f.keys[key] = k
	}
	if k != nil {
		suppressed = k.suppressed
		k.writtenIn, k.suppressed = w, 0
	}
	dropped, f.dropped = f.dropped, 0
	return true, suppressed, dropped
}

// auditSignInFailure records a failed sign-in: the username attempted (never
// the password), the reason and the client's IP and log ID. userID is "" for
// an unknown username.
func (h *Handler) auditSignInFailure(r *http.Request, now time.Time, username, userID, reason string) {
	username = truncate(username, maxUsernameKey)
	ip := store.ActorFrom(r.Context()).IP
	ok, suppressed, dropped := h.failures.admit(now, ip+"\x00"+username)
	if !ok {
		return
	}
	detail := map[string]any{"username": username, "reason": reason}
	if suppressed > 0 {
		detail["suppressed"] = suppressed
	}
	if dropped > 0 {
		detail["dropped"] = dropped
	}
	targetType, targetID := "user", userID
	if userID == "" {
		targetType, targetID = "username", username
	}
	e := store.NewAuditEvent(r.Context(), now.Unix(), "signin.failure", targetType, targetID, "", detail)
	if err := h.Store.AppendAudit(r.Context(), e); err != nil {
		h.Log.ErrorContext(r.Context(), "web: audit sign-in failure", "err", err)
	}
}
