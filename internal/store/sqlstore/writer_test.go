package sqlstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

// TestWriterBatch: transactions queued behind a running one commit together,
// and each still has its own outcome — one that fails (an error, a
// constraint, a panic, which is raised in its caller) rolls back alone, one
// whose caller gives up while queued never runs, one whose caller's context
// ends while it runs still commits (and does not interrupt the batch), a
// revision bump happens once.
func TestWriterBatch(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE t (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	rev0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insert := func(k string) func(context.Context, *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.txExec(ctx, tx, "INSERT INTO t (k) VALUES (?)", k)
			return mapErr(err)
		}
	}

	// A running transaction holds the writer while the others queue.
	started, release := make(chan struct{}), make(chan struct{})
	results := map[string]chan error{}
	goSubmit := func(name string, ctx context.Context, bump bool, fn func(context.Context, *sql.Tx) error) {
		queued := len(s.writer.jobs)
		ch := make(chan error, 1)
		results[name] = ch
		go func() {
			defer func() {
				if r := recover(); r != nil {
					ch <- fmt.Errorf("%w: %v", errPanicked, r)
				}
			}()
			ch <- s.inTx(ctx, bump, fn)
		}()
		if name == "gate" {
			<-started
			return
		}
		waitFor(t, func() bool { return len(s.writer.jobs) == queued+1 })
	}
	goSubmit("gate", ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		close(started)
		<-release
		return insert("gate")(ctx, tx)
	})
	goSubmit("a", ctx, false, insert("a"))
	errBoom := errors.New("boom")
	goSubmit("b fails", ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		if err := insert("b")(ctx, tx); err != nil {
			return err
		}
		return errBoom
	})
	goSubmit("a again", ctx, false, insert("a"))
	abandonCtx, abandon := context.WithCancel(ctx)
	ran := false
	goSubmit("abandoned", abandonCtx, false, func(ctx context.Context, tx *sql.Tx) error {
		ran = true
		return insert("abandoned")(ctx, tx)
	})
	abandon()
	if err := <-results["abandoned"]; !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned while queued: %v, want context.Canceled", err)
	}
	cancelCtx, cancelRunning := context.WithCancel(ctx)
	goSubmit("cancelled while running", cancelCtx, false, func(ctx context.Context, tx *sql.Tx) error {
		cancelRunning()
		return insert("e")(ctx, tx)
	})
	goSubmit("panics", ctx, false, func(ctx context.Context, tx *sql.Tx) error {
		if err := insert("p")(ctx, tx); err != nil {
			return err
		}
		panic("job bug")
	})
	goSubmit("bump", ctx, true, insert("f"))
	close(release)

	for name, want := range map[string]error{"gate": nil, "a": nil, "b fails": errBoom, "a again": store.ErrAlreadyExists,
		"cancelled while running": nil, "panics": errPanicked, "bump": nil} {
		if err := <-results[name]; !errors.Is(err, want) || (want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	if ran {
		t.Error("a transaction whose caller gave up while it was queued ran")
	}
	rows, err := s.db.QueryContext(ctx, "SELECT k FROM t ORDER BY k")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		got = append(got, k)
	}
	rows.Close()
	if want := []string{"a", "e", "f", "gate"}; !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	if rev, err := s.Revision(ctx); err != nil || rev != rev0+1 {
		t.Errorf("revision %d (%v), want %d", rev, err, rev0+1)
	}
}

// TestWriterClose: Close commits what is queued, then refuses writes.
func TestWriterClose(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	started, release := make(chan struct{}), make(chan struct{})
	gate := make(chan error, 1)
	go func() {
		gate <- s.inTx(ctx, true, func(context.Context, *sql.Tx) error { close(started); <-release; return nil })
	}()
	<-started
	queued := make(chan error, 1)
	go func() { queued <- s.inTx(ctx, true, func(context.Context, *sql.Tx) error { return nil }) }()
	waitFor(t, func() bool { return len(s.writer.jobs) == 1 })
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, func() bool { s.writer.mu.RLock(); defer s.writer.mu.RUnlock(); return s.writer.closed })
	close(release)
	for _, ch := range []chan error{gate, queued, closed} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	if err := s.inTx(ctx, false, func(context.Context, *sql.Tx) error { return nil }); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("write after Close: %v, want ErrUnavailable", err)
	}
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	// Migrations bump nothing; the two transactions above bumped once each.
	if rev, err := s2.Revision(ctx); err != nil || rev != 2 {
		t.Errorf("revision after reopening: %d (%v), want 2", rev, err)
	}
}

var errPanicked = errors.New("panicked")

// waitFor polls cond until it holds (a test timeout ends a hang).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

// TestWriterBoundsTheWAL: under steady writes the WAL starts over each time
// it holds restartFrames frames (the writer's catch-up checkpoint), where a
// background checkpoint alone never finds it finished and it grows until
// SQLite's own checkpoint, the backstop at 10,000 frames, starts it over.
// restartFrames is lowered far below the backstop, and the test counts the
// times the WAL started over (its header's checkpoint sequence number),
// which the backstop alone does once or twice here: how large the WAL grew
// in between depends on how fast checkpoints run on a busy machine (up to
// ~11,000 frames when the checkpointer's fsyncs stalled), so it is logged,
// not held to a bound.
func TestWriterBoundsTheWAL(t *testing.T) {
	defer func(n int) { restartFrames = n }(restartFrames)
	restartFrames = 250
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT)"); err != nil {
		t.Fatal(err)
	}
	seq0 := walCheckpointSeq(t, path)
	// Each transaction writes a new page's worth, 16,000 in all (past the
	// backstop), from 8 writers so batches form.
	const writes, writers = 16000, 8
	pad := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < writes; i += writers {
				if err := s.inTx(ctx, false, func(ctx context.Context, tx *sql.Tx) error {
					_, err := s.txExec(ctx, tx, "INSERT INTO t (k, v) VALUES (?, ?)", fmt.Sprint(i), pad)
					return err
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	restarts := walCheckpointSeq(t, path) - seq0
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// The WAL file keeps its largest size when it starts over.
	t.Logf("WAL started over %d times; at most %d bytes (%d frames)", restarts, fi.Size(), fi.Size()/(4096+24))
	if restarts < 8 {
		t.Errorf("the WAL started over %d times in %d writes of a page each, want at least 8 (one per ~%d frames): the writer's catch-up checkpoint does not start it over",
			restarts, writes, restartFrames)
	}
}

// walCheckpointSeq reads the checkpoint sequence number in the header of
// the database's WAL file, which SQLite advances each time the WAL starts
// over.
func walCheckpointSeq(t *testing.T, dbPath string) uint32 {
	t.Helper()
	f, err := os.Open(dbPath + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var h [32]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		t.Fatalf("WAL header: %v", err)
	}
	if magic := binary.BigEndian.Uint32(h[0:4]); magic&^1 != 0x377f0682 {
		t.Fatalf("WAL header: magic %#x, not a WAL file", magic)
	}
	return binary.BigEndian.Uint32(h[12:16])
}
