package store

import (
	"strconv"
	"sync"
	"testing"
)

func TestIDGen(t *testing.T) {
	const ms = 1_796_000_000_000 // 2026-12
	tests := []struct {
		name  string
		clock []int64 // the clock at each ID
		check func(t *testing.T, ids []int64)
	}{
		{"time is the top bits", []int64{ms}, func(t *testing.T, ids []int64) {
			if got := ids[0] >> timeShift; got != ms-idEpoch {
				t.Errorf("time bits %d, want %d", got, ms-idEpoch)
			}
		}},
		{"one millisecond counts up", []int64{ms, ms, ms}, func(t *testing.T, ids []int64) {
			if ids[1] <= ids[0] || ids[2] <= ids[1] {
				t.Errorf("IDs of one millisecond do not increase: %v", ids)
			}
		}},
		{"a clock stepping back changes nothing", []int64{ms, ms - 5000, ms - 1}, func(t *testing.T, ids []int64) {
			if ids[1] <= ids[0] || ids[2] <= ids[1] {
				t.Errorf("IDs after the clock stepped back do not increase: %v", ids)
			}
		}},
		{"the next millisecond is later", []int64{ms, ms + 1}, func(t *testing.T, ids []int64) {
			if ids[1]>>timeShift != ms-idEpoch+1 {
				t.Errorf("second ID's time bits %d, want %d", ids[1]>>timeShift, ms-idEpoch+1)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := 0
			g := &idGen{now: func() int64 { return tc.clock[i] }, node: 77}
			var out []int64
			for i = range tc.clock {
				id := g.next()
				if node := id >> nodeShift & (1<<nodeBits - 1); node != 77 {
					t.Errorf("node bits %d, want 77", node)
				}
				out = append(out, id)
			}
			tc.check(t, out)
		})
	}
}

// More than 4096 IDs in one millisecond spill into the next, keeping the
// node and never repeating.
func TestIDGenSpills(t *testing.T) {
	const ms = 1_796_000_000_000
	g := &idGen{now: func() int64 { return ms }, node: 1023}
	seen := map[int64]bool{}
	last := int64(0)
	for range 3 * (maxSeq + 1) {
		id := g.next()
		if seen[id] || id <= last {
			t.Fatalf("ID %d repeats or does not increase (last %d)", id, last)
		}
		if node := id >> nodeShift & (1<<nodeBits - 1); node != 1023 {
			t.Fatalf("ID %d has node %d, want 1023", id, node)
		}
		seen[id], last = true, id
	}
	if got := last>>timeShift - (ms - idEpoch); got < 2 || got > 3 {
		t.Errorf("12,288 IDs in one millisecond took %d more milliseconds, want 2 or 3", got)
	}
}

// NewID from many goroutines, with the node changing meanwhile (as when
// several stores are opened in one process): every ID distinct, 19 digits.
func TestNewIDConcurrent(t *testing.T) {
	const workers, each = 8, 20_000
	var mu sync.Mutex
	seen := make(map[string]bool, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]string, 0, each)
			for i := range each {
				if i%5000 == 0 {
					SetIDNode(int64(w*1000 + i))
				}
				mine = append(mine, NewID())
			}
			mu.Lock()
			defer mu.Unlock()
			for _, id := range mine {
				if seen[id] {
					t.Errorf("ID %s made twice", id)
				}
				seen[id] = true
				if _, err := strconv.ParseInt(id, 10, 64); err != nil || len(id) != 19 {
					t.Errorf("ID %q is not a 19-digit number", id)
				}
			}
		}()
	}
	wg.Wait()
}
