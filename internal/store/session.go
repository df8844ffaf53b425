package store

import "context"

// Session is a signed-in browser. The session ID itself lives only in the
// browser's cookie; the store keeps its hash, so a database leak does not
// hand out live sessions.
type Session struct {
	// IDHash is the hex SHA-256 of the session ID (256 random bits).
	IDHash string
	UserID string
	// CSRFSecret keys the HMAC that derives the session's per-form CSRF tokens.
	CSRFSecret string
	CreatedAt  int64
	ExpiresAt  int64
}

// Sessions stores browser sessions. They live in the database so every
// replica behind a load balancer sees the same ones.
type Sessions interface {
	// CreateSession stores a new session; it does not advance the revision.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns the session whose ID hash is idHash if it has not
	// expired at now (ExpiresAt > now); otherwise ErrNotFound.
	GetSession(ctx context.Context, idHash string, now int64) (Session, error)
	// DeleteSession removes a session (sign-out); ErrNotFound if there is none.
	DeleteSession(ctx context.Context, idHash string) error
	// DeleteUserSessions ends every session of userID except the one whose
	// hash is keep ("" keeps none) and returns how many ended.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error)
	// DeleteExpiredSessions removes sessions whose expiry is at or before now
	// and returns how many went (STYLE practice 11). It does not advance the
	// revision.
	DeleteExpiredSessions(ctx context.Context, now int64) (int64, error)
	// SetSessionFlash replaces the session's one-time flash (opaque to the
	// store); ErrNotFound if there is no such session.
	SetSessionFlash(ctx context.Context, idHash, flash string) error
	// TakeSessionFlash returns the session's flash and clears it; of
	// concurrent takers at most one gets it, the others get "". A session
	// without a flash (or no session) gives "".
	TakeSessionFlash(ctx context.Context, idHash string) (string, error)
}
