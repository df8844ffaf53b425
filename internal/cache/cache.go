// Package cache keeps read-through caches of store records that are all dropped
// at once when the store's revision advances. Every process sharing a database
// polls the revision, so a revoked credential or a removed membership stops
// working everywhere within one poll interval, while the verified request path
// reads memory only.
package cache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Generation is the invalidation epoch shared by a set of caches. Entries
// stored under an older generation are never returned.
type Generation struct{ v atomic.Uint64 }

// Current returns the current generation; read it before loading a value
// from the store, and pass it to Put.
func (g *Generation) Current() uint64 { return g.v.Load() }

// Invalidate makes every cached entry stale.
func (g *Generation) Invalidate() { g.v.Add(1) }

type entry[V any] struct {
	gen uint64
	v   V
}

// Cache is a bounded map whose entries live until the generation changes.
type Cache[K comparable, V any] struct {
	gen *Generation
	max int
	mu  sync.RWMutex
	m   map[K]entry[V]
}

// New returns a cache holding at most max entries (beyond that it starts over).
func New[K comparable, V any](gen *Generation, max int) *Cache[K, V] {
	return &Cache[K, V]{gen: gen, max: max, m: make(map[K]entry[V])}
}

// Get returns the cached value for k, if it was stored in the current generation.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	e, ok := c.m[k]
	c.mu.RUnlock()
	if !ok || e.gen != c.gen.Current() {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put stores v for k if gen, read before v was loaded, is still current: a
// value loaded before an invalidation must not outlive it.
func (c *Cache[K, V]) Put(k K, v V, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Current() {
		return
	}
	if len(c.m) >= c.max {
		c.m = make(map[K]entry[V], c.max/4)
	}
	c.m[k] = entry[V]{gen: gen, v: v}
}

// Load returns the cached value for k or calls load and caches its result.
// Errors are not cached.
func Load[K comparable, V any](c *Cache[K, V], k K, load func() (V, error)) (V, error) {
	if v, ok := c.Get(k); ok {
		return v, nil
	}
	gen := c.gen.Current()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.Put(k, v, gen)
	return v, nil
}

// LoadFound is Load for lookups that may find nothing: a miss (ok false) is
// not cached, so a record created a moment later is seen at once; only
// removals wait for the next revision poll.
func LoadFound[K comparable, V any](c *Cache[K, V], k K, load func() (V, bool, error)) (V, bool, error) {
	if v, ok := c.Get(k); ok {
		return v, true, nil
	}
	gen := c.gen.Current()
	v, ok, err := load()
	if err != nil || !ok {
		return v, false, err
	}
	c.Put(k, v, gen)
	return v, true, nil
}

// LoadOrMiss is LoadFound for getters that report a miss as an error:
// errors.Is(err, miss) is a miss (not cached, no error).
func LoadOrMiss[K comparable, V any](c *Cache[K, V], k K, miss error, get func() (V, error)) (V, bool, error) {
	return LoadFound(c, k, func() (V, bool, error) {
		v, err := get()
		if errors.Is(err, miss) {
			return v, false, nil
		}
		return v, err == nil, err
	})
}

// RevisionSource is where the watcher reads the store's revision.
type RevisionSource interface {
	Revision(ctx context.Context) (int64, error)
}

// Watch polls src every interval until ctx ends and invalidates gen whenever
// the revision changes. When a poll fails it invalidates too: without a
// revision it cannot promise that cached entries are current.
func Watch(ctx context.Context, src RevisionSource, gen *Generation, interval time.Duration, log *slog.Logger) {
	last := int64(-1)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, interval*4)
		rev, err := src.Revision(pctx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("revision poll failed; dropping caches", "err", err)
			gen.Invalidate()
			last = -1
		case err == nil && rev != last:
			// Also on the first poll: entries may have been cached before it.
			gen.Invalidate()
			last = rev
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
