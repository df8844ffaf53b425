// Package sqlstore implements store.Store on SQLite (modernc.org/sqlite, pure
// Go, WAL) and PostgreSQL (jackc/pgx) with one set of queries and one set of
// embedded, versioned migrations written in the SQL both dialects share. The
// only dialect difference handled in code is the placeholder syntax.
package sqlstore
