package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's recommended minimum for argon2id (m = 19 MiB,
// t = 2, p = 1; OWASP Password Storage Cheat Sheet), which keeps a sign-in
// near 50 ms and 19 MiB here. Hashes made with other parameters still verify:
// each hash records its own.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on the parameters a stored hash may ask for, so that a damaged or
// planted hash cannot make one verification take gigabytes or minutes.
const (
	maxArgonMemory = 256 * 1024 // KiB
	maxArgonTime   = 16
)

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches a hash made by HashPassword.
// It is CPU- and memory-heavy by design: servers call it through a
// PasswordGate, which bounds how many run at once.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unsupported password hash format")
	}
	var version int
	var mem uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &t, &p); err != nil {
		return false, errors.New("malformed argon2 parameters")
	}
	if mem == 0 || mem > maxArgonMemory || t == 0 || t > maxArgonTime || p == 0 {
		return false, fmt.Errorf("argon2 parameters out of bounds (m=%d, t=%d, p=%d)", mem, t, p)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errors.New("malformed salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false, errors.New("malformed key")
	}
	got := argon2.IDKey([]byte(password), salt, t, mem, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether hash was made with other parameters than
// HashPassword uses now (say OWASP's before the m = 64 MiB of earlier
// versions), so the next successful sign-in should store a new hash.
func NeedsRehash(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return true
	}
	want := fmt.Sprintf("m=%d,t=%d,p=%d", argonMemory, argonTime, argonThreads)
	return parts[2] != fmt.Sprintf("v=%d", argon2.Version) || parts[3] != want
}

// ErrBusy: every password-hashing slot stayed taken for the gate's wait; the
// caller should answer "try again shortly" (HTTP 503) without a verdict.
var ErrBusy = errors.New("too many password checks in progress")

// PasswordGate bounds concurrent password verification. Each argon2id run
// holds its memory cost (19 MiB, or what an older hash records) for its whole
// duration, so unbounded parallel sign-ins exhaust memory long before CPU;
// the gate keeps at most Slots running and lets a caller wait up to Wait for
// one before giving up with ErrBusy.
type PasswordGate struct {
	slots chan struct{}
	wait  time.Duration
	// verify is VerifyPassword; tests replace it to observe concurrency.
	verify func(hash, password string) (bool, error)
}

// DefaultPasswordSlots sizes the gate to the machine: one slot per CPU the
// process may use (argon2id with p = 1 keeps one core busy), at most 8.
func DefaultPasswordSlots() int {
	return min(max(runtime.GOMAXPROCS(0), 1), 8)
}

// NewPasswordGate returns a gate with slots concurrent verifications
// (DefaultPasswordSlots when slots ≤ 0) and the longest wait for a slot
// (1 s when wait ≤ 0).
func NewPasswordGate(slots int, wait time.Duration) *PasswordGate {
	if slots <= 0 {
		slots = DefaultPasswordSlots()
	}
	if wait <= 0 {
		wait = time.Second
	}
	return &PasswordGate{slots: make(chan struct{}, slots), wait: wait, verify: VerifyPassword}
}

// Acquire takes a slot, waiting up to the gate's wait; the caller must call
// release once. It returns ErrBusy when no slot frees up in time, or ctx's
// error when ctx ends first.
func (g *PasswordGate) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return func() { <-g.slots }, nil
}

// Verify runs VerifyPassword in a slot (see Acquire for its errors).
func (g *PasswordGate) Verify(ctx context.Context, hash, password string) (bool, error) {
	release, err := g.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return g.verify(hash, password)
}
