package credential

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Toucher stores last-used times in one batch.
type Toucher interface {
	TouchCredentials(ctx context.Context, lastUsed map[string]int64) error
}

// LastUsed collects last-use times in memory and writes them in batches, so
// the verified request path never writes to the database.
type LastUsed struct {
	store   Toucher
	log     *slog.Logger
	mu      sync.Mutex
	pending map[string]int64
}

// NewLastUsed returns an empty batcher writing to s.
func NewLastUsed(s Toucher, log *slog.Logger) *LastUsed {
	return &LastUsed{store: s, log: log, pending: map[string]int64{}}
}

// Record notes that credential id was used at unix seconds.
func (l *LastUsed) Record(id string, unix int64) {
	l.mu.Lock()
	if l.pending[id] < unix {
		l.pending[id] = unix
	}
	l.mu.Unlock()
}

// Flush writes what was recorded since the last flush. On failure the times
// are kept for the next flush.
func (l *LastUsed) Flush(ctx context.Context) error {
	l.mu.Lock()
	batch := l.pending
	l.pending = map[string]int64{}
	l.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := l.store.TouchCredentials(ctx, batch); err != nil {
		l.mu.Lock()
		for id, t := range batch {
			if l.pending[id] < t {
				l.pending[id] = t
			}
		}
		l.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends, then flushes once more.
func (l *LastUsed) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := l.Flush(fctx); err != nil {
				l.log.Error("final last-used flush failed", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if err := l.Flush(ctx); err != nil && ctx.Err() == nil {
				l.log.Warn("last-used flush failed; will retry", "err", err)
			}
		}
	}
}
