// Package gcfloor lets the heap grow to a floor before the garbage collector
// runs.
//
// Go starts a collection each time the heap has grown by GOGC percent (100 by
// default) over what the last one left live. The server's live heap is a few
// MiB, so under load it collected 40 times a second, and each cycle's fixed
// cost (stacks, roots, sweeping, assists) was about a tenth of the CPU of a
// cached request. With a floor the heap goal is max(floor, live×(1+GOGC/100)):
// while the live heap is small the collector waits for the floor, and once
// live×(1+GOGC/100) passes it GOGC applies unchanged. A memory limit
// (GOMEMLIMIT) still wins over the floor.
//
// The runtime has no such setting, so after each collection the percentage is
// set from the live heap that collection measured.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// liveMetric is the heap the last collection found live.
const liveMetric = "/gc/heap/live:bytes"

// minLive is the least live heap Percent assumes. The runtime's goal is
// never below 4 MiB×GOGC/100 (its heap minimum, which scales with the
// percentage), so for a live heap under 4 MiB the percentage that puts the
// goal at the floor is the one for 4 MiB.
const minLive = 4 << 20

// Percent is the GOGC percentage that puts the heap goal at
// max(floor, live×(1+base/100)).
func Percent(floor, live uint64, base int) int {
	if live < minLive {
		live = minLive
	}
	if floor <= live || (floor-live)*100/live <= uint64(base) {
		return base
	}
	return int((floor - live) * 100 / live)
}

// Tuner keeps the floor until Stop.
type Tuner struct {
	floor uint64
	base  int

	mu      sync.Mutex
	stopped bool
	percent int
	sample  []metrics.Sample
}

// Start sets the floor (bytes) over the GOGC percentage in force now. With
// GOGC=off, or a floor of 0, it changes nothing.
func Start(floor uint64) *Tuner {
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	t := &Tuner{floor: floor, base: base, percent: base, sample: []metrics.Sample{{Name: liveMetric}}}
	if floor == 0 || base < 0 {
		t.stopped = true
		return t
	}
	t.tune()
	t.arm()
	return t
}

// Percent is the percentage in force.
func (t *Tuner) Percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// Stop restores the percentage Start found.
func (t *Tuner) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	t.stopped = true
	debug.SetGCPercent(t.base)
	t.percent = t.base
}

// sentinel is garbage the moment arm returns; its cleanup runs after the
// collection that finds it, once per cycle. It is larger than the tiny
// allocator's 16 bytes so that it is freed on its own.
type sentinel struct{ _ [64]byte }

func (t *Tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *Tuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// tune sets the percentage from the last collection's live heap; it reports
// false once stopped.
func (t *Tuner) tune() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return false
	}
	metrics.Read(t.sample)
	var live uint64
	if v := t.sample[0].Value; v.Kind() == metrics.KindUint64 {
		live = v.Uint64()
	}
	p := Percent(t.floor, live, t.base)
	// A change under 1/8 is not worth a new goal.
	if d := p - t.percent; d != 0 && (d*8 > t.percent || -d*8 > t.percent || p == t.base) {
		debug.SetGCPercent(p)
		t.percent = p
	}
	return true
}
