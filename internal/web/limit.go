package web

import (
	"strings"
	"sync"
	"time"
)

// signInLimiter bounds password guessing without letting anyone lock a user
// out (issue 11.4). Attempts are counted per class in fixed windows:
//   - (client IP, username): LoginLimit per LoginWindow — the guesses one
//     client may make at one account;
//   - client IP: 5 × LoginLimit per LoginWindow — one client spraying many
//     usernames;
//   - username: 5 × LoginLimit per 12 × LoginWindow — a slow bound on an
//     account across clients, which only stops clients that have themselves
//     failed, so a correct password from a clean client always gets through.
//
// An attempt is counted before the password is checked (a burst of parallel
// attempts cannot all slip under the limit while the slow hash runs) and
// taken back when it succeeds or is never judged. In memory: each replica
// limits on its own.
type signInLimiter struct {
	mu             sync.Mutex
	pair, ip, user rateClass
	lastSweep      time.Time
}

type rateClass struct {
	limit  int
	window time.Duration
	m      map[string]*rateWindow
}

type rateWindow struct {
	start time.Time
	n     int
}

// maxLimiterKeys bounds each class's memory under a spray of usernames or
// addresses; past it the oldest-looking half is dropped (a dropped key only
// forgets its count).
const maxLimiterKeys = 100_000

// maxUsernameKey caps the part of a username that goes into a key: valid
// usernames are at most 64 bytes, and a 64 KB one must not cost 64 KB.
const maxUsernameKey = 128

func newSignInLimiter(limit int, window time.Duration) *signInLimiter {
	return &signInLimiter{
		pair: rateClass{limit: limit, window: window, m: map[string]*rateWindow{}},
		ip:   rateClass{limit: 5 * limit, window: window, m: map[string]*rateWindow{}},
		user: rateClass{limit: 5 * limit, window: 12 * window, m: map[string]*rateWindow{}},
	}
}

func (c *rateClass) count(now time.Time, k string) int {
	if w, ok := c.m[k]; ok && now.Sub(w.start) < c.window {
		return w.n
	}
	return 0
}

func (c *rateClass) add(now time.Time, k string) {
	w, ok := c.m[k]
	if !ok || now.Sub(w.start) >= c.window {
		w = &rateWindow{start: now}
		c.m[k] = w
	}
	w.n++
}

func (c *rateClass) takeBack(k string) {
	if w, ok := c.m[k]; ok && w.n > 0 {
		w.n--
	}
}

// sweep drops expired windows, and when the class is still over its cap,
// the windows that started longest ago.
func (c *rateClass) sweep(now time.Time) {
	for k, w := range c.m {
		if now.Sub(w.start) >= c.window {
			delete(c.m, k)
		}
	}
	if len(c.m) <= maxLimiterKeys {
		return
	}
	cut := now.Add(-c.window / 2)
	for k, w := range c.m {
		if w.start.Before(cut) || len(c.m) > maxLimiterKeys {
			delete(c.m, k)
		}
	}
}

func limiterKeys(ip, username string) (pair, user string) {
	user = strings.ToLower(username)
	if len(user) > maxUsernameKey {
		user = user[:maxUsernameKey]
	}
	return ip + "\x00" + user, user
}

// attempt counts a sign-in attempt by ip for username, or reports false
// (counting nothing) when one of the limits refuses it.
func (l *signInLimiter) attempt(now time.Time, ip, username string) bool {
	pair, user := limiterKeys(ip, username)
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.pair.window {
		l.pair.sweep(now)
		l.ip.sweep(now)
		l.user.sweep(now)
		l.lastSweep = now
	}
	pn, in := l.pair.count(now, pair), l.ip.count(now, ip)
	if pn >= l.pair.limit || in >= l.ip.limit {
		return false
	}
	if l.user.count(now, user) >= l.user.limit && (pn > 0 || in > 0) {
		return false
	}
	l.pair.add(now, pair)
	l.ip.add(now, ip)
	l.user.add(now, user)
	for _, c := range []*rateClass{&l.pair, &l.ip, &l.user} {
		if len(c.m) > maxLimiterKeys {
			c.sweep(now)
		}
	}
	return true
}

// unjudged takes back an attempt whose password was never checked.
func (l *signInLimiter) unjudged(ip, username string) {
	pair, user := limiterKeys(ip, username)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pair.takeBack(pair)
	l.ip.takeBack(ip)
	l.user.takeBack(user)
}

// succeeded takes back a successful attempt and forgets the client's
// earlier failures at that account.
func (l *signInLimiter) succeeded(ip, username string) {
	pair, user := limiterKeys(ip, username)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pair.m, pair)
	l.ip.takeBack(ip)
	l.user.takeBack(user)
}
