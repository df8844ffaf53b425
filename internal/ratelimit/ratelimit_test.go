package ratelimit

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in      string
		burst   int
		want    Limit
		wantErr bool
	}{
		{"50/s", 100, Limit{Rate: 50, Burst: 100}, false},
		{"10/m", 0, Limit{Rate: 10.0 / 60, Burst: 10}, false},
		{"3600/h", 5, Limit{Rate: 1, Burst: 5}, false},
		{"5/10m", 0, Limit{Rate: 5.0 / 600, Burst: 5}, false},
		{"0", 0, Limit{}, false},
		{"", 0, Limit{}, false},
		{"0/s", 3, Limit{}, false},
		{"x/s", 0, Limit{}, true},
		{"5", 0, Limit{}, true},
		{"5/day", 0, Limit{}, true},
		{"-1/s", 0, Limit{}, true},
		{"5/-1s", 0, Limit{}, true},
		{"5/s", -1, Limit{}, true},
	} {
		got, err := ParseRate(tc.in, tc.burst)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseRate(%q, %d) = %v, %v; want %v, error %v", tc.in, tc.burst, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestLimiter(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	type step struct {
		at   time.Duration // since t0
		key  string
		want bool
		wait time.Duration // when refused
	}
	for _, tc := range []struct {
		name  string
		lim   Limit
		steps []step
	}{
		{"burst then refuse, then one per 1/rate", Limit{Rate: 2, Burst: 3}, []step{
			{0, "a", true, 0}, {0, "a", true, 0}, {0, "a", true, 0}, {0, "a", false, 500 * time.Millisecond},
			{400 * time.Millisecond, "a", false, 100 * time.Millisecond},
			{500 * time.Millisecond, "a", true, 0}, {500 * time.Millisecond, "a", false, 500 * time.Millisecond},
			{2 * time.Second, "a", true, 0}, {2 * time.Second, "a", true, 0}, {2 * time.Second, "a", true, 0},
			{2 * time.Second, "a", false, 500 * time.Millisecond},
		}},
		{"keys are independent", Limit{Rate: 1, Burst: 1}, []step{
			{0, "a", true, 0}, {0, "a", false, time.Second}, {0, "b", true, 0}, {time.Second, "a", true, 0},
		}},
		{"a clock going back refunds nothing", Limit{Rate: 1, Burst: 1}, []step{
			{time.Minute, "a", true, 0}, {0, "a", false, time.Second},
		}},
		{"10 per minute", Limit{Rate: 10.0 / 60, Burst: 10}, []step{
			{0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0},
			{0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0}, {0, "ip", true, 0},
			{0, "ip", false, 6 * time.Second}, {6 * time.Second, "ip", true, 0},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := New(tc.lim)
			for i, s := range tc.steps {
				ok, wait := l.Allow(t0.Add(s.at), s.key)
				if ok != s.want || (!ok && (wait-s.wait).Abs() > time.Millisecond) {
					t.Fatalf("step %d (%v, %q): Allow = %v, %v; want %v, %v", i, s.at, s.key, ok, wait, s.want, s.wait)
				}
			}
		})
	}
}

func TestLimiterOff(t *testing.T) {
	l := New(Limit{})
	for range 1000 {
		if ok, _ := l.Allow(time.Now(), "k"); !ok {
			t.Fatal("an off limiter refused")
		}
	}
	var c *Counter = NewCounter(0, time.Minute)
	c.Fail(time.Now(), "k")
	if b, _ := c.Blocked(time.Now(), "k"); b {
		t.Fatal("an off counter blocked")
	}
}

// TestLimiterMemory: idle keys are forgotten once their bucket is full
// again, the number of keys is capped, and long keys cost a hash.
func TestLimiterMemory(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	l := New(Limit{Rate: 1, Burst: 2})
	for i := range 1000 {
		l.Allow(t0, "k"+strconv.Itoa(i))
	}
	if n := l.Len(); n != 1000 {
		t.Fatalf("Len = %d", n)
	}
	l.Allow(t0.Add(3*time.Second), "new")
	if n := l.Len(); n != 1 {
		t.Fatalf("after the refill period, Len = %d, want 1 (idle keys swept)", n)
	}
	for i := range MaxKeys + 10 {
		l.Allow(t0.Add(3*time.Second), "x"+strconv.Itoa(i))
	}
	if n := l.Len(); n > MaxKeys {
		t.Fatalf("Len = %d, above the cap %d", n, MaxKeys)
	}
	long := strings.Repeat("a", 64<<10)
	if k := key(long); len(k) > maxKeyLen {
		t.Fatalf("a 64 KB key is kept as %d bytes", len(k))
	}
	if key(long) == key(long+"b") {
		t.Fatal("long keys collide")
	}
}

func TestCounter(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	c := NewCounter(5, 10*time.Minute)
	for i := range 5 {
		if b, _ := c.Blocked(t0.Add(time.Duration(i)*time.Minute), "s"); b {
			t.Fatalf("blocked after %d failures", i)
		}
		c.Fail(t0.Add(time.Duration(i)*time.Minute), "s")
	}
	b, wait := c.Blocked(t0.Add(5*time.Minute), "s")
	if !b || wait != 5*time.Minute {
		t.Fatalf("after 5 failures: Blocked = %v, %v; want true, 5m (the window runs from the first failure)", b, wait)
	}
	if b, _ := c.Blocked(t0.Add(5*time.Minute), "other"); b {
		t.Fatal("another key is blocked")
	}
	if b, _ := c.Blocked(t0.Add(10*time.Minute), "s"); b {
		t.Fatal("still blocked after the window")
	}
	// A new window counts afresh and old windows are swept.
	c.Fail(t0.Add(20*time.Minute), "s")
	if n := c.Len(); n != 1 {
		t.Fatalf("Len = %d", n)
	}
	for i := range MaxKeys + 10 {
		c.Fail(t0.Add(20*time.Minute), "k"+strconv.Itoa(i))
	}
	if n := c.Len(); n > MaxKeys {
		t.Fatalf("Len = %d, above the cap", n)
	}
}
