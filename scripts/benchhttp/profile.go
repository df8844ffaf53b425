package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/gcfloor"
	"github.com/cozeauth/cozeauth/internal/server"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"

	"github.com/cozeauth/cozeauth/scripts/internal/loopback"
)

// profile runs the server in this process, wired as `cozeauth serve` wires
// it, under the same load with access log on and off, and writes a CPU
// profile of each measured run to --profile. It returns one summary line per
// profile.
func (b *bench) profile(ctx context.Context, d *database, token string) ([]string, error) {
	if err := os.MkdirAll(b.o.profileDir, 0o755); err != nil {
		return nil, err
	}
	var out []string
	for _, accessLog := range []bool{true, false} {
		name := fmt.Sprintf("cpu-access-log-%t", accessLog)
		r, path, err := b.profileOne(ctx, d, token, accessLog, name)
		if err != nil {
			return nil, err
		}
		line := fmt.Sprintf("profile %s: %s (in-process server, %s)", path, r, name)
		logf("%s", line)
		out = append(out, line)
		if goBin, err := exec.LookPath("go"); err == nil {
			top, err := exec.CommandContext(ctx, goBin, "tool", "pprof", "-top", "-nodecount=40", path).CombinedOutput()
			if err == nil {
				topPath := filepath.Join(b.o.profileDir, name+".top.txt")
				_ = os.WriteFile(topPath, top, 0o644)
			}
		}
	}
	return out, nil
}

func (b *bench) profileOne(ctx context.Context, d *database, token string, accessLog bool, name string) (wrkResult, string, error) {
	addr, err := loopback.FreeAddr()
	if err != nil {
		return wrkResult{}, "", err
	}
	cfg := config.Default()
	cfg.Addr, cfg.DB, cfg.AccessLog = addr, d.dsn, accessLog
	if err := cfg.Validate(); err != nil {
		return wrkResult{}, "", err
	}
	logPath := os.DevNull
	if !b.o.discardLogs {
		logPath = filepath.Join(b.dir, name+".log")
	}
	lf, err := os.Create(logPath)
	if err != nil {
		return wrkResult{}, "", err
	}
	defer lf.Close()
	s, err := sqlstore.Open(ctx, d.dsn)
	if err != nil {
		return wrkResult{}, "", err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return wrkResult{}, "", err
	}
	defer gcfloor.Start(uint64(cfg.GCHeapFloorMiB) << 20).Stop()
	sctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		srv, err := server.New(cfg, s, logger(cfg, lf))
		if err != nil {
			runErr = err
			return
		}
		runErr = srv.Run(sctx, ln)
	}()
	defer func() { stop(); <-done }()
	if err := pollReady(ctx, "http://"+addr+"/readyz", done); err != nil {
		return wrkResult{}, "", fmt.Errorf("in-process server: %w (%v)", err, runErr)
	}
	t := &target{name: name, url: "http://" + addr + b.o.load.path, token: token, pid: os.Getpid()}
	if b.o.load.warmup > 0 {
		if _, err := b.measure(ctx, t, b.o.load.warmup, true); err != nil {
			return wrkResult{}, "", err
		}
	}
	path := filepath.Join(b.o.profileDir, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return wrkResult{}, "", err
	}
	defer f.Close()
	// The allocation profile counts from the process's start; one written
	// before the run and one after give the run's own allocations as
	// `go tool pprof -base NAME.allocs-before.pprof NAME.allocs.pprof`.
	if err := writeAllocs(filepath.Join(b.o.profileDir, name+".allocs-before.pprof")); err != nil {
		return wrkResult{}, "", err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return wrkResult{}, "", err
	}
	r, err := b.measure(ctx, t, b.o.load.duration, true)
	pprof.StopCPUProfile()
	if err == nil {
		err = writeAllocs(filepath.Join(b.o.profileDir, name+".allocs.pprof"))
	}
	return r, path, err
}

func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// logger is the server's buffered logger as `cozeauth serve` sets it up
// (flushed every 200 ms for the life of the process).
func logger(cfg config.Config, w io.Writer) *slog.Logger {
	l, b := cfg.Logger(w)
	go b.Run(context.Background(), 200*time.Millisecond)
	return l
}
