package cache

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

func TestCacheGeneration(t *testing.T) {
	var g Generation
	c := New[string, int](&g, 3)
	loads := 0
	load := func() (int, error) { loads++; return loads, nil }
	if v, _ := Load(c, "a", load); v != 1 {
		t.Fatalf("first load = %d", v)
	}
	if v, _ := Load(c, "a", load); v != 1 {
		t.Fatalf("cached load = %d", v)
	}
	g.Invalidate()
	if _, ok := c.Get("a"); ok {
		t.Fatal("stale entry returned after Invalidate")
	}
	if v, _ := Load(c, "a", load); v != 2 {
		t.Fatalf("reload = %d", v)
	}
	// A value loaded before an invalidation is not stored.
	gen := g.Current()
	g.Invalidate()
	c.Put("b", 9, gen)
	if _, ok := c.Get("b"); ok {
		t.Fatal("value from an old generation stored")
	}
	// Errors are not cached.
	if _, err := Load(c, "e", func() (int, error) { return 0, errors.New("boom") }); err == nil {
		t.Fatal("error lost")
	}
	if _, ok := c.Get("e"); ok {
		t.Fatal("error cached")
	}
	// Bounded.
	for _, k := range []string{"x", "y", "z", "w"} {
		c.Put(k, 1, g.Current())
	}
	if len(c.m) > 3 {
		t.Fatalf("cache grew to %d entries", len(c.m))
	}
}

type fakeRev struct {
	v     atomic.Int64
	err   atomic.Bool
	polls atomic.Int64
}

func (f *fakeRev) Revision(context.Context) (int64, error) {
	defer f.polls.Add(1)
	if f.err.Load() {
		return 0, errors.New("down")
	}
	return f.v.Load(), nil
}

func TestWatch(t *testing.T) {
	var g Generation
	src := &fakeRev{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		Watch(ctx, src, &g, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	waitFor := func(cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatal("condition not reached")
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(func() bool { return src.polls.Load() > 0 }) // the first poll only records the revision
	start := g.Current()
	src.v.Store(1)
	waitFor(func() bool { return g.Current() > start })
	now := g.Current()
	src.err.Store(true)
	waitFor(func() bool { return g.Current() > now })
	cancel()
	<-done
}

func TestLoadFoundDoesNotCacheMisses(t *testing.T) {
	var g Generation
	c := New[string, int](&g, 10)
	exists := false
	load := func() (int, bool, error) { return 7, exists, nil }
	if _, ok, _ := LoadFound(c, "k", load); ok {
		t.Fatal("found before it exists")
	}
	exists = true // created: seen at once, without an invalidation
	if v, ok, _ := LoadFound(c, "k", load); !ok || v != 7 {
		t.Fatal("miss was cached")
	}
	exists = false // removed: the hit stays until the generation changes
	if _, ok, _ := LoadFound(c, "k", load); !ok {
		t.Fatal("hit not cached")
	}
	g.Invalidate()
	if _, ok, _ := LoadFound(c, "k", load); ok {
		t.Fatal("removal not seen after invalidation")
	}
}
