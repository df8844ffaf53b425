package identity

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cozeauth/cozeauth/internal/store"
)

// maxAvatarURL bounds a stored avatar URL.
const maxAvatarURL = 1024

// checkNickname trims a nickname; empty becomes the username.
func checkNickname(nickname, username string) (string, error) {
	nickname = strings.TrimSpace(nickname)
	if nickname == "" {
		nickname = username
	}
	if utf8.RuneCountInString(nickname) > 100 {
		return "", invalid("nickname is longer than 100 characters")
	}
	return nickname, nil
}

// checkAvatarURL accepts "" (a generated avatar is served instead) or an
// absolute http or https URL.
func checkAvatarURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(raw) > maxAvatarURL ||
		strings.ContainsAny(raw, " \t\r\n\"'<>") {
		return "", invalid("avatar URL %q: use an absolute http or https URL of at most %d characters, or leave it empty", truncated(raw), maxAvatarURL)
	}
	return raw, nil
}

func truncated(s string) string {
	if utf8.RuneCountInString(s) <= 80 {
		return s
	}
	return string([]rune(s)[:80]) + "…"
}

// UpdateProfile sets a user's nickname (empty: their username) and avatar URL
// (empty: the generated one). nil leaves a field as it is.
func (s *Service) UpdateProfile(ctx context.Context, userRef string, nickname, avatarURL *string) (store.User, error) {
	u, err := s.ResolveUser(ctx, userRef)
	if err != nil {
		return store.User{}, err
	}
	nick, avatar := u.Nickname, u.AvatarURL
	if nickname != nil {
		if nick, err = checkNickname(*nickname, u.Username); err != nil {
			return store.User{}, err
		}
	}
	if avatarURL != nil {
		if avatar, err = checkAvatarURL(*avatarURL); err != nil {
			return store.User{}, err
		}
	}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, s.Now().Unix(), "user.update", "user", u.ID, "",
		map[string]any{"nickname": nick, "avatar_url": avatar}))
	return s.Store.UpdateUser(ctx, u.ID, func(x store.User) (store.User, error) {
		x.Nickname, x.AvatarURL = nick, avatar
		return x, nil
	})
}

// SetPassword gives a user a new password and ends their sessions except
// keepSession (a session ID hash; "" ends all).
func (s *Service) SetPassword(ctx context.Context, userRef, password, keepSession string) (store.User, error) {
	if utf8.RuneCountInString(password) < MinPasswordLen {
		return store.User{}, invalid("password must be at least %d characters", MinPasswordLen)
	}
	u, err := s.ResolveUser(ctx, userRef)
	if err != nil {
		return store.User{}, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return store.User{}, err
	}
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, s.Now().Unix(), "user.password.set", "user", u.ID, "", nil))
	u, err = s.Store.UpdateUser(ctx, u.ID, func(x store.User) (store.User, error) {
		x.PasswordHash = hash
		return x, nil
	})
	if err != nil {
		return store.User{}, err
	}
	if _, err := s.Store.DeleteUserSessions(ctx, u.ID, keepSession); err != nil {
		return store.User{}, err
	}
	return u, nil
}

// Rehash stores a new hash of password, which was just verified against the
// user's current hash, when that hash was made with older parameters
// (NeedsRehash). It reports whether it did.
func (s *Service) Rehash(ctx context.Context, u store.User, password string) (bool, error) {
	if !NeedsRehash(u.PasswordHash) {
		return false, nil
	}
	hash, err := HashPassword(password)
	if err != nil {
		return false, err
	}
	_, err = s.Store.UpdateUser(ctx, u.ID, func(x store.User) (store.User, error) {
		if x.PasswordHash != u.PasswordHash {
			return x, errRehashRace // changed meanwhile: keep the newer one
		}
		x.PasswordHash = hash
		return x, nil
	})
	if errors.Is(err, errRehashRace) {
		return false, nil
	}
	return err == nil, err
}

var errRehashRace = errors.New("password changed during re-hash")

// DeleteUser deletes a user and their personal account with everything in it
// (store.Users.DeleteUser) and returns who it was. A member of an enterprise
// is refused: removing them from it first hands their enterprise workspaces
// to a receiver.
func (s *Service) DeleteUser(ctx context.Context, userRef string) (store.User, error) {
	u, err := s.ResolveUser(ctx, userRef)
	if err != nil {
		return store.User{}, err
	}
	now := s.Now().Unix()
	ctx = store.WithAudit(ctx, store.NewAuditEvent(ctx, now, "user.delete", "user", u.ID, "",
		map[string]any{"username": u.Username}))
	if err := s.Store.DeleteUser(ctx, u.ID, now); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return store.User{}, fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": "))
		}
		return store.User{}, err
	}
	return u, nil
}
