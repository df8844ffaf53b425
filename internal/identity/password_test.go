package identity

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestVerifyPasswordRefusesOutOfBoundsParameters(t *testing.T) {
	for _, tc := range []struct{ name, params string }{
		{"huge memory", "m=4194304,t=2,p=1"},
		{"zero memory", "m=0,t=2,p=1"},
		{"huge time", "m=19456,t=1000,p=1"},
		{"zero threads", "m=19456,t=2,p=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := "$argon2id$v=19$" + tc.params + "$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5"
			if _, err := VerifyPassword(h, "x"); err == nil {
				t.Errorf("VerifyPassword accepted %s", tc.params)
			}
		})
	}
}

// TestPasswordGateBoundsConcurrency: however many sign-ins arrive at once, at
// most Slots verifications run together (each holds argon2id's memory), and
// the rest wait for a slot or give up with ErrBusy.
func TestPasswordGateBoundsConcurrency(t *testing.T) {
	g := NewPasswordGate(2, time.Hour)
	var running, peak atomic.Int32
	release := make(chan struct{})
	g.verify = func(string, string) (bool, error) {
		n := running.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		running.Add(-1)
		return false, nil
	}
	const callers = 50
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := g.Verify(context.Background(), "h", "p"); err != nil {
				t.Errorf("Verify: %v", err)
			}
		}()
	}
	// Let every caller finish, one at a time; the gate must never run more than 2.
	for range callers {
		release <- struct{}{}
	}
	wg.Wait()
	if p := peak.Load(); p < 1 || p > 2 {
		t.Errorf("peak concurrent verifications = %d, want at most 2", p)
	}
}

func TestPasswordGateBusyAndCancel(t *testing.T) {
	g := NewPasswordGate(1, 10*time.Millisecond)
	hold := make(chan struct{})
	entered := make(chan struct{})
	g.verify = func(string, string) (bool, error) {
		close(entered)
		<-hold
		return true, nil
	}
	done := make(chan error, 1)
	go func() { _, err := g.Verify(context.Background(), "h", "p"); done <- err }()
	<-entered // the only slot is taken until hold closes
	if _, err := g.Verify(context.Background(), "h", "p"); !errors.Is(err, ErrBusy) {
		t.Errorf("Verify with the slot taken = %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.wait = time.Hour // only the context can end this wait
	if _, err := g.Verify(ctx, "h", "p"); !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with a cancelled context = %v, want context.Canceled", err)
	}
	close(hold)
	if err := <-done; err != nil {
		t.Errorf("first Verify: %v", err)
	}
}
