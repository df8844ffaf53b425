package sqlstore

import "context"

// MigrateTo applies the migrations up to version, so a test can build a
// database as an older release left it.
func (s *DB) MigrateTo(ctx context.Context, version int) error { return s.migrate(ctx, version) }

// Exec runs a statement (with ? placeholders) outside the store's API, for
// rows an older release wrote that today's API refuses.
func (s *DB) Exec(ctx context.Context, query string, args ...any) error {
	_, err := s.db.ExecContext(ctx, s.q(query), args...)
	return err
}

// SetGCChunk sets how many rows one chunk of DeleteExpired removes, and
// restores it when t ends.
func SetGCChunk(t interface{ Cleanup(func()) }, n int) {
	old := gcChunk
	gcChunk = n
	t.Cleanup(func() { gcChunk = old })
}

// DefaultPostgresConns is PostgreSQL's default pool size for cpus CPUs.
var DefaultPostgresConns = defaultPostgresConns
