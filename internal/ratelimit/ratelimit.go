// Package ratelimit holds the in-memory limiters of the OAuth endpoints and
// the device verification page (issue 11.8): a token bucket per key for
// request rates, and a fixed-window counter per key for failures. Each
// replica limits on its own: with N replicas behind a balancer a client gets
// up to N times the configured rate. Memory is bounded: keys are capped in
// length, expired entries are swept as the clock passes, and the number of
// keys is capped.
package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MaxKeys bounds each limiter's entries. Past it, a sweep drops entries that
// would be forgotten soonest; a dropped key only forgets its count.
const MaxKeys = 100_000

// maxKeyLen caps a key's size: longer keys (a 64 KB client_id) are hashed.
const maxKeyLen = 128

func key(k string) string {
	if len(k) <= maxKeyLen {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Limit is a sustained rate with a burst. The zero Limit limits nothing.
type Limit struct {
	Rate  float64 // events per second
	Burst int     // events allowed at once (at least 1 when Rate > 0)
}

// Off reports whether the limit limits nothing.
func (l Limit) Off() bool { return l.Rate <= 0 }

func (l Limit) String() string {
	if l.Off() {
		return "off"
	}
	return fmt.Sprintf("%g/s burst %d", l.Rate, l.Burst)
}

// ParseRate reads "N/UNIT" with UNIT s, m, h or a Go duration ("50/s",
// "10/m", "5/10m"); "0" or "" is off. The burst defaults to N.
func ParseRate(s string, burst int) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Limit{}, nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || count < 0 {
		return Limit{}, fmt.Errorf("rate %q: want N/UNIT, e.g. 50/s or 10/m", s)
	}
	if count == 0 {
		return Limit{}, nil
	}
	var d time.Duration
	switch per = strings.TrimSpace(per); per {
	case "s":
		d = time.Second
	case "m":
		d = time.Minute
	case "h":
		d = time.Hour
	default:
		if d, err = time.ParseDuration(per); err != nil || d <= 0 {
			return Limit{}, fmt.Errorf("rate %q: the unit must be s, m, h or a positive duration", s)
		}
	}
	if burst < 0 {
		return Limit{}, fmt.Errorf("burst %d: must not be negative", burst)
	}
	if burst == 0 {
		burst = count
	}
	return Limit{Rate: float64(count) / d.Seconds(), Burst: burst}, nil
}

// Limiter is a token bucket per key.
type Limiter struct {
	lim       Limit
	mu        sync.Mutex
	m         map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a limiter of l; a nil *Limiter (and an off Limit) allows all.
func New(l Limit) *Limiter {
	if l.Off() {
		return nil
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &Limiter{lim: l, m: map[string]*bucket{}}
}

// refill is how long an empty bucket takes to fill: after it, an idle key
// is the same as a fresh one and can be forgotten.
func (l *Limiter) refill() time.Duration {
	return time.Duration(float64(l.lim.Burst) / l.lim.Rate * float64(time.Second))
}

func (l *Limiter) level(b *bucket, now time.Time) float64 {
	el := now.Sub(b.last).Seconds()
	if el < 0 {
		el = 0
	}
	return math.Min(float64(l.lim.Burst), b.tokens+el*l.lim.Rate)
}

// Allow takes one event for k at now, or reports how long until one is
// available.
func (l *Limiter) Allow(now time.Time, k string) (bool, time.Duration) {
	if l == nil {
		return true, 0
	}
	k = key(k)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maybeSweep(now)
	b, ok := l.m[k]
	if !ok {
		b = &bucket{tokens: float64(l.lim.Burst), last: now}
		l.m[k] = b
	}
	b.tokens, b.last = l.level(b, now), now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.lim.Rate * float64(time.Second))
	return false, wait
}

// Len is the number of keys held (for tests and metrics).
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// maybeSweep forgets full buckets once per refill period (at least every
// second), and when still over MaxKeys, the fullest ones.
func (l *Limiter) maybeSweep(now time.Time) {
	every := max(l.refill(), time.Second)
	if now.Sub(l.lastSweep) < every && len(l.m) < MaxKeys {
		return
	}
	l.lastSweep = now
	for k, b := range l.m {
		if l.level(b, now) >= float64(l.lim.Burst) {
			delete(l.m, k)
		}
	}
	for thr := float64(l.lim.Burst) - 1; len(l.m) >= MaxKeys && thr >= -1; thr-- {
		for k, b := range l.m {
			if l.level(b, now) >= thr {
				delete(l.m, k)
			}
		}
	}
}

// Counter counts failures per key in fixed windows that start at a key's
// first failure: after Limit failures the key is blocked until its window
// ends.
type Counter struct {
	limit     int
	window    time.Duration
	mu        sync.Mutex
	m         map[string]*window
	lastSweep time.Time
}

type window struct {
	start time.Time
	n     int
}

// NewCounter returns a counter of limit failures per window; a nil
// *Counter (limit or window not positive) blocks nothing.
func NewCounter(limit int, per time.Duration) *Counter {
	if limit <= 0 || per <= 0 {
		return nil
	}
	return &Counter{limit: limit, window: per, m: map[string]*window{}}
}

// Blocked reports whether k has used up its failures, and for how long.
func (c *Counter) Blocked(now time.Time, k string) (bool, time.Duration) {
	if c == nil {
		return false, 0
	}
	k = key(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	w, ok := c.m[k]
	if !ok || now.Sub(w.start) >= c.window || w.n < c.limit {
		return false, 0
	}
	return true, w.start.Add(c.window).Sub(now)
}

// Fail counts a failure of k.
func (c *Counter) Fail(now time.Time, k string) {
	if c == nil {
		return
	}
	k = key(k)
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.lastSweep) >= c.window || len(c.m) >= MaxKeys {
		c.lastSweep = now
		for k, w := range c.m {
			if now.Sub(w.start) >= c.window {
				delete(c.m, k)
			}
		}
		cut := c.window / 2
		for len(c.m) >= MaxKeys && cut > 0 {
			for k, w := range c.m {
				if now.Sub(w.start) >= cut {
					delete(c.m, k)
				}
			}
			cut /= 2
		}
		for k := range c.m { // still full: forget any, down to 90%, so the next sweep is far off
			if len(c.m) < MaxKeys*9/10 {
				break
			}
			delete(c.m, k)
		}
	}
	w, ok := c.m[k]
	if !ok || now.Sub(w.start) >= c.window {
		w = &window{start: now}
		c.m[k] = w
	}
	w.n++
}

// Len is the number of keys held.
func (c *Counter) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
