package credential

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Toucher stores last-used times in one batch.
type Toucher interface {
	TouchCredentials(ctx context.Context, lastUsed map[string]int64) error
}

// LastUsed collects last-use times in memory and writes them in batches, so
// the verified request path never writes to the database. Recording a time
// already recorded (the common case: many requests per second per token) is
// a lock-free read.
type LastUsed struct {
	store Toucher
	log   *slog.Logger
	mu    sync.Mutex // serialises writers of the current map and flushes
	cur   atomic.Pointer[sync.Map]
}

// NewLastUsed returns an empty batcher writing to s.
func NewLastUsed(s Toucher, log *slog.Logger) *LastUsed {
	l := &LastUsed{store: s, log: log}
	l.cur.Store(new(sync.Map))
	return l
}

// Record notes that credential id was used at unix seconds.
func (l *LastUsed) Record(id string, unix int64) {
	if v, ok := l.cur.Load().Load(id); ok && v.(int64) >= unix {
		return
	}
	l.mu.Lock()
	m := l.cur.Load()
	if v, ok := m.Load(id); !ok || v.(int64) < unix {
		m.Store(id, unix)
	}
	l.mu.Unlock()
}

// Flush writes what was recorded since the last flush. On failure the times
// are kept for the next flush.
func (l *LastUsed) Flush(ctx context.Context) error {
	l.mu.Lock()
	old := l.cur.Swap(new(sync.Map))
	l.mu.Unlock()
	batch := map[string]int64{}
	old.Range(func(k, v any) bool { batch[k.(string)] = v.(int64); return true })
	if len(batch) == 0 {
		return nil
	}
	if err := l.store.TouchCredentials(ctx, batch); err != nil {
		for id, t := range batch {
			l.Record(id, t)
		}
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
