package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

const mib = 1 << 20

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		name        string
		floor, live uint64
		base, want  int
	}{
		{"small heap waits for the floor", 64 * mib, 4 * mib, 100, 1500},
		{"tiny heap counts as 4 MiB", 64 * mib, 100 << 10, 100, 1500},
		{"nothing measured yet", 64 * mib, 0, 100, 1500},
		{"heap of 8 MiB", 64 * mib, 8 * mib, 100, 700},
		{"GOGC reaches past the floor", 64 * mib, 40 * mib, 100, 100},
		{"just at the floor", 64 * mib, 32 * mib, 100, 100},
		{"live above the floor", 64 * mib, 200 * mib, 100, 100},
		{"operator's GOGC kept when larger", 64 * mib, 16 * mib, 500, 500},
		{"operator's small GOGC raised under the floor", 64 * mib, 16 * mib, 50, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percent(tc.floor, tc.live, tc.base); got != tc.want {
				t.Errorf("Percent(%d MiB, %d B, %d) = %d, want %d", tc.floor/mib, tc.live, tc.base, got, tc.want)
			}
		})
	}
}

// TestTuner: the percentage follows the live heap after each collection, and
// Stop puts back the one Start found.
func TestTuner(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	tu := Start(1 << 30)
	defer tu.Stop()
	high := tu.Percent()
	if high <= 100 {
		t.Fatalf("with a 1 GiB floor over a small heap the percentage is %d, want more than 100", high)
	}
	if got := debug.SetGCPercent(high); got != high {
		t.Fatalf("runtime's percentage %d, tuner's %d", got, high)
	}

	// A live heap of 256 MiB: after the next collection the goal is
	// 1 GiB with a smaller percentage.
	ballast := make([]byte, 256*mib)
	for i := range ballast {
		ballast[i] = 1
	}
	deadline := time.Now().Add(time.Minute)
	for tu.Percent() >= high {
		if time.Now().After(deadline) {
			t.Fatalf("percentage still %d after collections with 256 MiB live", tu.Percent())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	if p := tu.Percent(); p > 400 || p < 250 {
		t.Errorf("with 256 MiB live under a 1 GiB floor the percentage is %d, want about 300", p)
	}
	runtime.KeepAlive(ballast)

	tu.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after Stop the percentage is %d, want 100", got)
	}
}

func TestTunerLeavesAlone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gogc  int
		floor uint64
	}{
		{"GOGC=off", -1, 64 * mib},
		{"no floor", 100, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer debug.SetGCPercent(debug.SetGCPercent(tc.gogc))
			tu := Start(tc.floor)
			defer tu.Stop()
			runtime.GC()
			if got := debug.SetGCPercent(tc.gogc); got != tc.gogc {
				t.Errorf("percentage %d, want %d untouched", got, tc.gogc)
			}
		})
	}
}
