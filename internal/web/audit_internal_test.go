package web

import (
	"fmt"
	"testing"
	"time"
)

// TestFailureAuditBounds: one sign-in failure event per (IP, username) and
// minute, the failures in between counted into the key's next event, and at
// most failureEventsPerMinute events a minute whatever the keys.
func TestFailureAuditBounds(t *testing.T) {
	var f failureAudit
	t0 := time.Unix(1_700_000_040, 0) // the start of a minute
	type want struct {
		ok                  bool
		suppressed, dropped int64
	}
	check := func(what string, now time.Time, key string, w want) {
		t.Helper()
		ok, s, d := f.admit(now, key)
		if ok != w.ok || s != w.suppressed || d != w.dropped {
			t.Errorf("%s: admit = %v, %d, %d; want %v, %d, %d", what, ok, s, d, w.ok, w.suppressed, w.dropped)
		}
	}
	check("first failure", t0, "ip1 alice", want{ok: true})
	check("again, same minute", t0.Add(10*time.Second), "ip1 alice", want{})
	check("and again", t0.Add(20*time.Second), "ip1 alice", want{})
	check("another username", t0.Add(20*time.Second), "ip1 bob", want{ok: true})
	check("next minute carries the count", t0.Add(time.Minute), "ip1 alice", want{ok: true, suppressed: 2})
	check("then nothing to carry", t0.Add(2*time.Minute), "ip1 alice", want{ok: true})

	// Spraying: distinct usernames hit the global cap.
	t1 := t0.Add(10 * time.Minute)
	for i := range failureEventsPerMinute {
		if ok, _, _ := f.admit(t1, fmt.Sprint("ip2 user", i)); !ok {
			t.Fatalf("failure %d under the cap was not written", i)
		}
	}
	check("over the cap", t1, "ip2 userX", want{})
	check("over the cap again", t1, "ip2 userY", want{})
	check("next minute reports the dropped ones", t1.Add(time.Minute), "ip2 userZ", want{ok: true, dropped: 2})
	if len(f.keys) > failureKeysMax {
		t.Errorf("keys = %d, over the bound %d", len(f.keys), failureKeysMax)
	}
}
