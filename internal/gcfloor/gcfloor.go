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
// set from the live heap that collection measured (polled every 10 ms).
package gcfloor

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
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

// poll is how often the tuner looks for a finished collection. A cycle that
// ends with much more live heap than the last one starts with a goal of
// live×(1+percent/100) under the percentage set for the small heap; the
// tuner lowers it within a poll, before the heap has grown far towards it.
// (A cleanup run by each collection, the other way to hear of one, can miss
// a cycle: an object allocated while the collector marks survives it.)
const poll = 10 * time.Millisecond

// Tuner keeps the floor until Stop.
type Tuner struct {
	floor uint64
	base  int
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	percent int
	cycles  uint64 // finished collections at the last tune
	tuned   bool
}

// Start sets the floor (bytes) over the GOGC percentage in force now. With
// GOGC=off, or a floor of 0, it changes nothing.
func Start(floor uint64) *Tuner {
	base := debug.SetGCPercent(100)
	debug.SetGCPercent(base)
	t := &Tuner{floor: floor, base: base, percent: base, stop: make(chan struct{}), done: make(chan struct{})}
	if floor == 0 || base < 0 {
		close(t.done)
		return t
	}
	samples := []metrics.Sample{{Name: cyclesMetric}, {Name: liveMetric}}
	t.tune(samples)
	go t.run(samples)
	return t
}

// Percent is the percentage in force.
func (t *Tuner) Percent() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.percent
}

// Stop ends the tuning and restores the percentage Start found.
func (t *Tuner) Stop() {
	select {
	case <-t.done:
		return
	case t.stop <- struct{}{}:
	}
	<-t.done
	t.mu.Lock()
	defer t.mu.Unlock()
	debug.SetGCPercent(t.base)
	t.percent = t.base
}

func (t *Tuner) run(samples []metrics.Sample) {
	defer close(t.done)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.tune(samples)
		}
	}
}

// cyclesMetric counts finished collections.
const cyclesMetric = "/gc/cycles/total:gc-cycles"

// tune sets the percentage from the last collection's live heap when a
// collection has finished since the last call.
func (t *Tuner) tune(samples []metrics.Sample) {
	metrics.Read(samples)
	cycles, live := uint64Of(samples[0]), uint64Of(samples[1])
	t.mu.Lock()
	defer t.mu.Unlock()
	if cycles == t.cycles && t.tuned {
		return
	}
	t.cycles, t.tuned = cycles, true
	p := Percent(t.floor, live, t.base)
	// A change under 1/8 is not worth a new goal.
	if d := p - t.percent; d != 0 && (d*8 > t.percent || -d*8 > t.percent || p == t.base) {
		debug.SetGCPercent(p)
		t.percent = p
	}
}

func uint64Of(s metrics.Sample) uint64 {
	if s.Value.Kind() == metrics.KindUint64 {
		return s.Value.Uint64()
	}
	return 0
}
