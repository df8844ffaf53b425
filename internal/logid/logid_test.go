package logid

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	base := time.Date(2026, 12, 4, 23, 59, 59, 999_999_999, time.FixedZone("CST", 8*3600))
	// Seconds out of order: the cached stamp must never stand for another second.
	for _, at := range []time.Time{base, base, base.Add(time.Nanosecond), base.Add(-time.Second), base, base.Add(time.Hour)} {
		id := New(at)
		want := at.UTC().Format("20060102150405")
		if len(id) != 34 || !strings.HasPrefix(id, want) || strings.Trim(id[14:], "0123456789abcdef") != "" {
			t.Errorf("New(%s) = %q, want %s and 20 hex digits", at, id, want)
		}
	}
	if a, b := New(base), New(base); a == b {
		t.Error("two IDs in one second are equal")
	}
	if n := testing.AllocsPerRun(100, func() { _ = New(base) }); n != 1 {
		t.Errorf("New makes %v allocations, want 1 (the string)", n)
	}
}

func TestNewConcurrent(t *testing.T) {
	base := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				at := base.Add(time.Duration((g+i)%5) * time.Second)
				if id := New(at); !strings.HasPrefix(id, at.Format("20060102150405")) {
					t.Errorf("New(%s) = %q", at, id)
					return
				}
			}
		}()
	}
	wg.Wait()
}
