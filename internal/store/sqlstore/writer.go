package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cozeauth/cozeauth/internal/store"
)

// SQLite has one writer at a time. Every write transaction of this process
// goes to one goroutine (writeLoop), which commits the transactions that
// queued while the previous commit ran together: one BEGIN IMMEDIATE … COMMIT
// for the batch, each transaction in a SAVEPOINT of its own, so a
// transaction that fails rolls back alone and the others still commit. A
// commit writes every page the batch changed to the WAL once, where one
// commit per transaction wrote the pages they share (index tails, the
// revision row) again for each; that page writing was most of a token
// grant's cost. A caller is answered only after its batch commits, so what a
// client is told was stored is stored. Nothing waits to fill a batch: a
// transaction arriving at an idle writer commits at once.
//
// The transactions run with their context's values but never its
// cancellation: a statement whose context ends makes modernc.org/sqlite
// interrupt the connection, which rolls back the whole transaction (SQLite's
// sqlite3_interrupt), and so the other transactions of the batch with it. A
// caller whose context ends while its transaction waits in the queue gets
// its context's error and the transaction never runs; once running, it
// finishes (statements on a local file take microseconds to milliseconds).

// maxBatch bounds the transactions committed together.
const maxBatch = 128

// Checkpoints. After a commit the checkpointer copies the WAL's new pages
// into the database file on a connection of its own (a PASSIVE checkpoint,
// which waits for nobody), at most every checkpointEvery, on the other core,
// where SQLite's automatic checkpoint ran them in the committing writer,
// which every other writer waits for. Under steady writes a background
// checkpoint never finds the WAL finished (new frames keep coming), and
// SQLite starts the WAL over only when a write begins on a WAL copied to its
// end; so once the WAL holds restartFrames frames the writer itself runs a
// checkpoint between two batches — a short one, the checkpointer has copied
// nearly everything — and the next batch starts the WAL over.
const checkpointEvery = 20 * time.Millisecond

// restartFrames is a variable for TestWriterBoundsTheWAL.
var restartFrames = 4000

type writeJob struct {
	ctx   context.Context
	bump  bool
	fn    func(ctx context.Context, tx *sql.Tx) error
	state atomic.Int32 // jobQueued, jobRunning or jobAbandoned
	err   error        // the answer, set before done is closed
	panic any          // what fn panicked with, re-raised in the caller
	done  chan struct{}
}

const (
	jobQueued int32 = iota
	jobRunning
	jobAbandoned
)

var errClosed = fmt.Errorf("%w: the store is closed", store.ErrUnavailable)

// writer is the SQLite write queue.
type writer struct {
	jobs    chan *writeJob
	mu      sync.RWMutex // guards closed against sends to jobs
	closed  bool
	stopped chan struct{} // closed when writeLoop has returned
	// wrote is signalled after each commit for the checkpointer, which
	// closes ckptDone when it has stopped.
	wrote    chan struct{}
	ckptDone chan struct{}
	// catchUp asks the write loop for a checkpoint before its next batch.
	catchUp atomic.Bool
	// ckptMu keeps the checkpointer's checkpoints apart from the write
	// loop's catch-up checkpoint and the batch after it.
	ckptMu sync.Mutex
	// conn is the write loop's own connection, kept from batch to batch
	// when ownConn (the pool holds more than one; on a pool of one, keeping
	// it would leave readers none): its page cache stays valid from batch
	// to batch (no other connection of the process writes), where a pooled
	// one would have to read every page again after another's commit.
	conn    *sql.Conn
	ownConn bool
}

// newWriter returns the writer of a store whose pool holds conns
// connections.
func newWriter(conns int) *writer {
	return &writer{jobs: make(chan *writeJob, maxBatch), stopped: make(chan struct{}),
		wrote: make(chan struct{}, 1), ckptDone: make(chan struct{}), ownConn: conns > 1}
}

// submit queues a transaction and waits for its answer.
func (s *DB) submit(ctx context.Context, bump bool, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return unavailable(ctx, err)
	}
	j := &writeJob{ctx: ctx, bump: bump, fn: fn, done: make(chan struct{})}
	w := s.writer
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.jobs <- j:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return unavailable(ctx, ctx.Err())
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return unavailable(ctx, ctx.Err())
		}
		<-j.done // running: its answer comes within the batch's commit
	}
	if j.panic != nil {
		panic(j.panic)
	}
	return j.err
}

// writeLoop runs until close: it takes the first queued transaction, every
// other one already queued (up to maxBatch), and commits them together.
func (s *DB) writeLoop() {
	w := s.writer
	defer close(w.stopped)
	defer func() {
		if w.conn != nil {
			w.conn.Close()
		}
	}()
	batch := make([]*writeJob, 0, maxBatch)
	for j := range w.jobs {
		batch = append(batch[:0], j)
		// Let the goroutines that are ready to run (handlers a step from
		// their own write) queue theirs first: under load (bench-grants, 64
		// clients) batches held 5.5 transactions on average, after a yield
		// 18.5, so each commit's fixed cost is shared more (JWT +14–22%,
		// code +6–17% tokens/s). When nothing else is ready to run the yield
		// returns at once.
		runtime.Gosched()
	drain:
		for len(batch) < maxBatch {
			select {
			case j, ok := <-w.jobs:
				if !ok {
					break drain
				}
				batch = append(batch, j)
			default:
				break drain
			}
		}
		if w.catchUp.Swap(false) {
			// The catch-up checkpoint and the batch whose first write
			// starts the WAL over run with no checkpoint of the
			// checkpointer's beside them: one running then keeps this one
			// from copying the WAL to its end, or the write from taking
			// the locks the restart needs, and the WAL grows on. On a
			// starved machine the two meet often (with a checkpointer
			// that never sleeps, TestWriterBoundsTheWAL's WAL reached
			// 4,700-14,500 frames; with the lock 2,600-3,300, once 8,900).
			w.ckptMu.Lock()
			s.checkpoint()
			s.commitBatch(batch)
			w.ckptMu.Unlock()
		} else {
			s.commitBatch(batch)
		}
		clear(batch) // let the jobs' closures be collected
	}
}

// closeWriter refuses new transactions, lets queued ones commit and waits
// for the loop and the checkpointer to end.
func (s *DB) closeWriter() {
	w := s.writer
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.jobs)
	}
	w.mu.Unlock()
	<-w.stopped
	<-w.ckptDone
}

// checkpointLoop checkpoints after commits, at most every checkpointEvery,
// until the write loop ends. A failed checkpoint is left to the next one
// (and to SQLite's own backstop).
func (s *DB) checkpointLoop() {
	w := s.writer
	defer close(w.ckptDone)
	for {
		select {
		case <-w.wrote:
		case <-w.stopped:
			return
		}
		w.ckptMu.Lock()
		frames := s.checkpoint()
		w.ckptMu.Unlock()
		if frames >= restartFrames {
			w.catchUp.Store(true)
		}
		select {
		case <-time.After(checkpointEvery):
		case <-w.stopped:
			return
		}
	}
}

// beginWrite begins the batch's transaction on the write loop's connection,
// taking a new one when there is none or it has gone bad.
func (s *DB) beginWrite() (*sql.Tx, error) {
	w := s.writer
	if !w.ownConn {
		return s.db.BeginTx(context.Background(), nil)
	}
	for attempt := 0; ; attempt++ {
		if w.conn == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			c, err := s.db.Conn(ctx)
			if err == nil {
				// The write loop reads the pages it changes (index pages
				// all over the token tables): keep up to 8 MiB of them.
				// 32 MiB measured no faster, on a fresh database or one of
				// 1M tokens, and SQLite scans the cache's whole hash table
				// at each commit after a B-tree split has reordered pages
				// (the temporary page number it gives one raises the
				// cache's largest key), which costs in proportion to it.
				if _, err = c.ExecContext(ctx, "PRAGMA cache_size = -8192"); err != nil {
					c.Close()
				}
			}
			cancel()
			if err != nil {
				return nil, err
			}
			w.conn = c
		}
		tx, err := w.conn.BeginTx(context.Background(), nil)
		if err == nil || attempt > 0 || !(errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn)) {
			return tx, err
		}
		w.conn.Close()
		w.conn = nil
	}
}

// checkpoint runs a PASSIVE checkpoint and returns the frames in the WAL
// (0 when it failed: the next one, and SQLite's own backstop, retry).
func (s *DB) checkpoint() (frames int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var busy, copied int
	if err := s.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied); err != nil {
		return 0
	}
	return frames
}

// commitBatch runs the batch's transactions in one database transaction and
// answers each.
func (s *DB) commitBatch(batch []*writeJob) {
	jobs := batch[:0:0]
	for _, j := range batch {
		if j.state.CompareAndSwap(jobQueued, jobRunning) {
			jobs = append(jobs, j)
		}
	}
	if len(jobs) == 0 {
		return
	}
	if err := s.runBatch(jobs); err != nil {
		// The transaction as a whole failed (BEGIN, a savepoint, COMMIT):
		// nothing of the batch is stored.
		for _, j := range jobs {
			if j.err == nil {
				j.err = err
			}
		}
	}
	for _, j := range jobs {
		close(j.done)
	}
}

// runBatch runs jobs in one transaction, each in a savepoint when there are
// several. A job's own failure is its err and rolls back its savepoint; the
// returned error is the transaction's.
func (s *DB) runBatch(jobs []*writeJob) (err error) {
	var audits []func(committed bool)
	defer func() {
		for _, done := range audits {
			done(err == nil)
		}
	}()
	tx, err := s.beginWrite()
	if err != nil {
		return mapErr(err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	single := len(jobs) == 1
	ok := 0
	for _, j := range jobs {
		ctx := context.WithoutCancel(j.ctx)
		if !single {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
				return mapErr(err)
			}
		}
		done, jerr := s.runQueuedJob(ctx, tx, j)
		if jerr != nil {
			j.err = unavailable(j.ctx, jerr)
			if single {
				return nil // rolled back by the deferred Rollback
			}
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
				return mapErr(err)
			}
		} else {
			ok++
			audits = append(audits, done)
		}
		if !single {
			if _, err := tx.ExecContext(ctx, "RELEASE job"); err != nil {
				return mapErr(err)
			}
		}
	}
	if ok == 0 {
		return nil
	}
	if err := tx.Commit(); err != nil {
		return mapErr(err)
	}
	select {
	case s.writer.wrote <- struct{}{}:
	default:
	}
	return nil
}

// runQueuedJob is runJob for the writer: a panic in the job fails the job
// and is re-raised in its caller (where the server's recovery answers it),
// not in the writer, which serves every other caller.
func (s *DB) runQueuedJob(ctx context.Context, tx *sql.Tx, j *writeJob) (done func(bool), err error) {
	defer func() {
		if r := recover(); r != nil {
			j.panic = fmt.Sprintf("%v [in a store transaction]\n%s", r, debug.Stack())
			done, err = nil, fmt.Errorf("transaction panicked: %v", r)
		}
	}()
	return s.runJob(ctx, tx, j)
}

// runJob runs one transaction's work: fn, the revision bump when asked and
// the audit event its context carries. It returns the audit's completion.
func (s *DB) runJob(ctx context.Context, tx *sql.Tx, j *writeJob) (func(bool), error) {
	if err := j.fn(ctx, tx); err != nil {
		return nil, err
	}
	if j.bump {
		if err := s.bumpTx(ctx, tx); err != nil {
			return nil, err
		}
	}
	return s.appendPendingAudit(ctx, tx)
}
