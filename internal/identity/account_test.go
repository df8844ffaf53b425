package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/cozeauth/cozeauth/internal/store"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// oldHash hashes password with other argon2id parameters, as an earlier
// version (or another tool) would have.
func oldHash(t *testing.T, password string, mem, time uint32) string {
	t.Helper()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, time, mem, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=1$%s$%s", argon2.Version, mem, time, b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestNeedsRehash(t *testing.T) {
	current, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, hash string
		want       bool
	}{
		{"current parameters", current, false},
		{"more memory (an older default)", oldHash(t, "x", 64*1024, 1), true},
		{"less time", oldHash(t, "x", 19*1024, 1), true},
		{"not argon2id", "$bcrypt$x", true},
	} {
		if got := NeedsRehash(tc.hash); got != tc.want {
			t.Errorf("%s: NeedsRehash = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func newAccountService(t *testing.T) (*Service, *sqlstore.DB) {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &Service{Store: s, Now: time.Now}, s
}

func TestRehash(t *testing.T) {
	svc, s := newAccountService(t)
	ctx := t.Context()
	u, err := svc.CreateUser(ctx, "alice", "correct horse", "")
	if err != nil {
		t.Fatal(err)
	}
	if did, err := svc.Rehash(ctx, u, "correct horse"); did || err != nil {
		t.Fatalf("Rehash of a current hash = %v, %v; want no change", did, err)
	}
	old := oldHash(t, "correct horse", 8*1024, 3)
	u, err = s.UpdateUser(ctx, u.ID, func(x store.User) (store.User, error) { x.PasswordHash = old; return x, nil })
	if err != nil {
		t.Fatal(err)
	}
	if did, err := svc.Rehash(ctx, u, "correct horse"); !did || err != nil {
		t.Fatalf("Rehash of an old hash = %v, %v", did, err)
	}
	got, _ := s.GetUser(ctx, u.ID)
	if NeedsRehash(got.PasswordHash) {
		t.Errorf("the stored hash still has old parameters: %s", got.PasswordHash)
	}
	if ok, err := VerifyPassword(got.PasswordHash, "correct horse"); !ok || err != nil {
		t.Errorf("the new hash does not verify the password: %v %v", ok, err)
	}
	// A stale user (the password changed meanwhile) keeps the newer hash.
	if did, err := svc.Rehash(ctx, u, "correct horse"); did || err != nil {
		t.Errorf("Rehash with a stale user = %v, %v; want no change", did, err)
	}
	if again, _ := s.GetUser(ctx, u.ID); again.PasswordHash != got.PasswordHash {
		t.Error("a stale Rehash replaced the newer hash")
	}
}

func TestAccountChanges(t *testing.T) {
	svc, s := newAccountService(t)
	ctx := t.Context()
	u, err := svc.CreateUser(ctx, "alice", "correct horse", "Alice")
	if err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	for _, tc := range []struct {
		name             string
		nick, avatar     *string
		wantNick, wantAv string
		wantErr          bool
	}{
		{"both", str(" Al "), str("https://example.com/a.png"), "Al", "https://example.com/a.png", false},
		{"nickname only", str("Ally"), nil, "Ally", "https://example.com/a.png", false},
		{"empty nickname is the username", str(""), nil, "alice", "https://example.com/a.png", false},
		{"clear the avatar", nil, str(""), "alice", "", false},
		{"javascript URL", nil, str("javascript:alert(1)"), "", "", true},
		{"relative URL", nil, str("/a.png"), "", "", true},
		{"quote in URL", nil, str(`https://x.example/a".png`), "", "", true},
		{"long nickname", str(string(make([]rune, 101))), nil, "", "", true},
	} {
		got, err := svc.UpdateProfile(ctx, "alice", tc.nick, tc.avatar)
		if tc.wantErr {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
			}
			continue
		}
		if err != nil || got.Nickname != tc.wantNick || got.AvatarURL != tc.wantAv {
			t.Errorf("%s: %q %q %v; want %q %q", tc.name, got.Nickname, got.AvatarURL, err, tc.wantNick, tc.wantAv)
		}
	}

	// SetPassword ends the other sessions, keeping the one named.
	now := time.Now().Unix()
	for _, h := range []string{"keep", "other"} {
		if err := s.CreateSession(ctx, store.Session{IDHash: h, UserID: u.ID, CSRFSecret: "c", CreatedAt: now, ExpiresAt: now + 3600}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.SetPassword(ctx, "alice", "short", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	if _, err := svc.SetPassword(ctx, "alice", "battery staple", "keep"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.GetUser(ctx, u.ID)
	if ok, _ := VerifyPassword(got.PasswordHash, "battery staple"); !ok {
		t.Error("the new password does not verify")
	}
	if _, err := s.GetSession(ctx, "keep", now); err != nil {
		t.Errorf("the kept session ended: %v", err)
	}
	if _, err := s.GetSession(ctx, "other", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the other session: %v, want ended", err)
	}

	// DeleteUser refuses an enterprise member with a clear message.
	ent, err := svc.CreateEnterprise(ctx, "Acme", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DeleteUser(ctx, "alice"); !errors.Is(err, ErrInvalid) {
		t.Errorf("DeleteUser of a member of %s = %v, want ErrInvalid", ent.ID, err)
	}
	if _, err := svc.DeleteUser(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser(nobody) = %v", err)
	}
}
