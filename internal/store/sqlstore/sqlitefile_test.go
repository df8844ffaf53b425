package sqlstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestSQLiteFile: the file is created 0600 (its WAL and SHM too), the CLI's
// MustExist creates nothing, and a file moved or deleted while serving is
// reported by Healthy and never recreated empty (issue 11.5, 11.12).
func TestSQLiteFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()

	missing := filepath.Join(dir, "typo.db")
	if _, err := Open(ctx, missing, MustExist()); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Open(missing, MustExist) = %v, want ErrNoDatabase", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing, MustExist) left a file behind: %v", err)
	}

	path := filepath.Join(dir, "cozeauth.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Healthy(ctx); err != nil {
		t.Fatalf("Healthy on a fresh database: %v", err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if m := info.Mode().Perm(); m != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(p), m)
		}
	}
	if again, err := Open(ctx, path, MustExist()); err != nil {
		t.Errorf("Open(existing, MustExist): %v", err)
	} else {
		again.Close()
	}

	// Moved away while serving.
	moved := filepath.Join(dir, "moved.db")
	if err := os.Rename(path, moved); err != nil {
		t.Fatal(err)
	}
	if err := s.Healthy(ctx); err == nil {
		t.Error("Healthy after the file was moved away: nil, want an error")
	}
	s.db.SetMaxIdleConns(0) // the next query needs a new connection
	_, _ = s.Revision(ctx)
	_ = s.db.PingContext(ctx)
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new connection recreated the database at its path: %v", err)
	}

	// Replaced by another file.
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if err := s.Healthy(ctx); err == nil {
		t.Error("Healthy after the file was replaced: nil, want an error")
	}
}
