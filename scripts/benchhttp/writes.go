package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// writeWatch counts database writes made by other processes between its
// start and stop.
//
// SQLite: a connection of our own polls PRAGMA data_version every 5ms; the
// value changes whenever another connection has committed a write, so the
// count is the number of polls that saw at least one commit (exact while
// commits are further apart than a poll). File sizes of the database and
// its WAL are compared too.
//
// PostgreSQL: the difference of the next transaction ID before and after.
// A transaction gets an ID only when it writes, so this is the number of
// write transactions in the whole cluster (reads, including the server's
// revision polls, assign none).
type writeWatch struct {
	d      *database
	conn   *sql.Conn
	raw    *sql.DB
	before int64
	sizes  [2]int64
	stopc  chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	seen   int64
	err    error
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func watchWrites(ctx context.Context, d *database) (*writeWatch, error) {
	raw, err := d.openRaw()
	if err != nil {
		return nil, err
	}
	conn, err := raw.Conn(ctx)
	if err != nil {
		raw.Close()
		return nil, err
	}
	w := &writeWatch{d: d, conn: conn, raw: raw, stopc: make(chan struct{})}
	if d.dialect == sqlstore.Postgres {
		if err := conn.QueryRowContext(ctx, "SELECT txid_snapshot_xmax(txid_current_snapshot())").Scan(&w.before); err != nil {
			w.close()
			return nil, err
		}
		return w, nil
	}
	w.sizes = [2]int64{fileSize(d.path), fileSize(d.path + "-wal")}
	if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&w.before); err != nil {
		w.close()
		return nil, err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		last := w.before
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.stopc:
				return
			case <-t.C:
			}
			var v int64
			if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
				w.mu.Lock()
				w.err = err
				w.mu.Unlock()
				return
			}
			if v != last {
				w.mu.Lock()
				w.seen++
				w.mu.Unlock()
				last = v
			}
		}
	}()
	return w, nil
}

func (w *writeWatch) close() {
	w.conn.Close()
	w.raw.Close()
}

// stop ends the watch and returns the number of writes seen and a
// description.
func (w *writeWatch) stop(ctx context.Context) (int64, string, error) {
	defer w.close()
	if w.d.dialect == sqlstore.Postgres {
		var after int64
		if err := w.conn.QueryRowContext(ctx, "SELECT txid_snapshot_xmax(txid_current_snapshot())").Scan(&after); err != nil {
			return 0, "", err
		}
		n := after - w.before
		return n, fmt.Sprintf("%d write transactions (transaction IDs assigned, whole cluster)", n), nil
	}
	close(w.stopc)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, "", w.err
	}
	db, wal := fileSize(w.d.path)-w.sizes[0], fileSize(w.d.path+"-wal")-w.sizes[1]
	return w.seen, fmt.Sprintf("%d commits seen (PRAGMA data_version); db file %+d B, WAL %+d B", w.seen, db, wal), nil
}
