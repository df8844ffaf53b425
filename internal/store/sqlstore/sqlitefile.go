package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// The SQLite file itself (issue 11.5, 11.12): created 0600 (its WAL and SHM
// files take the same mode), never created by a pooled connection (each
// opens it read-write without create), and watched: moved or deleted while
// serving, it is reported instead of being silently recreated empty.

// ErrNoDatabase: the SQLite file does not exist and the caller did not ask to
// create it.
var ErrNoDatabase = errors.New("database file does not exist")

// MustExist refuses to create a missing SQLite file (the admin CLI without
// --create: a typo must not leave a new empty database behind).
func MustExist() Option {
	return func(o *options) { o.mustExist = true }
}

// sqliteFile is the database file opened at start (immutable).
type sqliteFile struct {
	path string
	info fs.FileInfo
}

func sqlitePath(dsn string) string { return strings.TrimPrefix(dsn, "sqlite:") }

// ensureSQLiteFile creates the database file with mode 0600 when it is
// missing (unless mustExist) and returns what it found.
func ensureSQLiteFile(path string, mustExist bool) (*sqliteFile, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if mustExist {
			return nil, fmt.Errorf("%w: %s (run `cozeauth migrate --db %s` to create it, or pass --create)", ErrNoDatabase, path, path)
		}
		f, cerr := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if cerr != nil && !errors.Is(cerr, fs.ErrExist) {
			return nil, fmt.Errorf("create database file: %w", cerr)
		}
		if f != nil {
			f.Close()
		}
		info, err = os.Stat(path)
	}
	if err != nil {
		return nil, fmt.Errorf("database file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("database file %s is not a regular file", path)
	}
	return &sqliteFile{path: path, info: info}, nil
}

// check reports an error when the file at the path is no longer the one
// opened at start (deleted, moved away, or replaced).
func (f *sqliteFile) check() error {
	now, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("database file %s is gone (moved or deleted while serving): %w", f.path, err)
	}
	if !os.SameFile(f.info, now) {
		return fmt.Errorf("database file %s was replaced while serving (not the file opened at start)", f.path)
	}
	return nil
}

// Healthy reports whether the database can serve: for SQLite, that the file
// is still the one opened at start; for both backends, that a write commits
// (a read-only file, a full disk or a read-only replica fail here while
// reads still succeed).
func (s *DB) Healthy(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if s.file != nil {
		if err := s.file.check(); err != nil {
			return err
		}
	}
	// A write that changes nothing: it takes the write lock and commits, so
	// it fails exactly when real writes would. On the main pool: the
	// revision poll's own connection must stay free for the poll.
	if _, err := s.dbExec(ctx, "UPDATE revision SET value = value WHERE id = 1"); err != nil {
		return fmt.Errorf("the database does not accept writes: %w", err)
	}
	return nil
}
