package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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

// ---- the audit page

const auditPath = consolePath + "/audit"

// auditPageSize is how many events one page of /console/audit lists.
const auditPageSize = 50

// auditView is the audit page: the filter form, one page of events and the
// link to the next.
type auditView struct {
	Actor, Action, TargetType, TargetID, Since, Until string
	Admin                                             bool // the viewer administers an enterprise
	Error                                             string
	Rows                                              []auditRow
	Next                                              string // URL of the next page, "" on the last
}

type auditRow struct {
	At, ActorID, ActorType, Action, TargetType, TargetID, EnterpriseID, IP, LogID, Detail string
}

// parseAuditTime reads a filter time: the form's datetime-local value (UTC),
// RFC 3339 or Unix seconds; "" is no bound.
func parseAuditTime(v string) (int64, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, true
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return n, true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// auditList is GET /console/audit. Visibility: every user sees the events
// they made and the events about them (their sign-ins, failed ones too); a
// SuperAdmin or Admin of an enterprise also sees every event of that
// enterprise. GET only: it changes nothing, so it needs no CSRF token.
func (h *Handler) auditList(w http.ResponseWriter, r *http.Request, sess *session) {
	l := h.langOf(w, r)
	q := r.URL.Query()
	p := auditView{Actor: q.Get("actor"), Action: q.Get("action"), TargetType: q.Get("target_type"),
		TargetID: q.Get("target_id"), Since: q.Get("since"), Until: q.Get("until")}
	vis := &store.AuditVisibility{UserID: sess.User.ID}
	mems, err := h.Store.ListUserEnterprises(r.Context(), sess.User.ID)
	if err != nil {
		h.internal(w, r, err)
		return
	}
	for _, m := range mems {
		if m.Role.IsAdmin() {
			vis.EnterpriseIDs = append(vis.EnterpriseIDs, m.EnterpriseID)
		}
	}
	p.Admin = len(vis.EnterpriseIDs) > 0
	f := store.AuditFilter{ActorID: strings.TrimSpace(p.Actor), Action: strings.TrimSpace(p.Action),
		TargetType: strings.TrimSpace(p.TargetType), TargetID: strings.TrimSpace(p.TargetID),
		Before: q.Get("before"), Visible: vis, Limit: auditPageSize}
	since, ok1 := parseAuditTime(p.Since)
	until, ok2 := parseAuditTime(p.Until)
	status := http.StatusOK
	v := h.consoleView(l, sess, "audit", "audit.title")
	switch {
	case !ok1 || !ok2:
		p.Error, status = l.T("audit.bad_time"), http.StatusBadRequest
	default:
		f.Since, f.Until = since, until
		es, err := h.Store.ListAudit(r.Context(), f)
		if errors.Is(err, store.ErrInvalid) {
			p.Error, status = l.T("audit.bad_cursor"), http.StatusBadRequest
			break
		}
		if err != nil {
			h.internal(w, r, err)
			return
		}
		for _, e := range es {
			p.Rows = append(p.Rows, auditRow{At: time.Unix(e.At, 0).UTC().Format(time.RFC3339), ActorID: e.ActorID,
				ActorType: e.ActorType, Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
				EnterpriseID: e.EnterpriseID, IP: e.IP, LogID: e.LogID, Detail: e.Detail})
		}
		if len(es) == auditPageSize {
			next := url.Values{}
			for k, val := range map[string]string{"actor": p.Actor, "action": p.Action, "target_type": p.TargetType,
				"target_id": p.TargetID, "since": p.Since, "until": p.Until} {
				if val != "" {
					next.Set(k, val)
				}
			}
			next.Set("before", es[len(es)-1].ID)
			p.Next = auditPath + "?" + next.Encode()
		}
	}
	v.P = p
	h.render(w, r, status, "console_audit", v, auditPath)
}
