package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/cozeauth/cozeauth/internal/config"
	"github.com/cozeauth/cozeauth/internal/gcfloor"
	"github.com/cozeauth/cozeauth/internal/server"
	"github.com/cozeauth/cozeauth/internal/store/sqlstore"
)

// profileDir is -profile: "" runs the binary; otherwise the server runs in
// this process and each grant's load is CPU-profiled into it.
var profileDir string

// startServer starts the server on addr over dsn, as `cozeauth serve` with
// the access log off, warn logs and the /token rate limits (a defence
// against abuse, issue 11.8) off: this measures the grants, not the limiter.
// It returns the function that stops it and the server's process ID (0 when
// it runs in this process).
func startServer(bin, addr, dsn string) (stop func(), pid int, err error) {
	if profileDir == "" {
		cmd := exec.Command(bin, "serve", "--addr", addr, "--db", dsn, "--access-log=false", "--log-level", "warn",
			"--token-rate-limit", "0", "--token-client-rate-limit", "0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, 0, err
		}
		return func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }, cmd.Process.Pid, nil
	}
	if err := os.MkdirAll(profileDir, 0o755); err != nil {
		return nil, 0, err
	}
	cfg := config.Default()
	cfg.Addr, cfg.DB, cfg.AccessLog, cfg.LogLevel = addr, dsn, false, "warn"
	cfg.TokenRate, cfg.TokenClientRate = "0", "0"
	if err := cfg.Validate(); err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sqlstore.Open(ctx, dsn, sqlstore.MaxConns(cfg.DBMaxConns))
	if err != nil {
		cancel()
		return nil, 0, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cancel()
		s.Close()
		return nil, 0, err
	}
	log, buf := cfg.Logger(os.Stderr)
	go buf.Run(ctx, 200*time.Millisecond)
	srv, err := server.New(cfg, s, log)
	if err != nil {
		cancel()
		ln.Close()
		s.Close()
		return nil, 0, err
	}
	gc := gcfloor.Start(uint64(cfg.GCHeapFloorMiB) << 20)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, ln) }()
	return func() {
		gc.Stop()
		cancel()
		if err := <-done; err != nil {
			fmt.Fprintln(os.Stderr, "benchgrants: in-process server:", err)
		}
		s.Close()
	}, 0, nil
}

// startProfile starts a CPU profile named after the grant when -profile is
// given and returns the function that stops it and prints where it went.
func startProfile(name string) (stop func()) {
	if profileDir == "" {
		return func() {}
	}
	path := filepath.Join(profileDir, name+".pprof")
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgrants: profile:", err)
		if f != nil {
			f.Close()
		}
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		fmt.Printf("  profile: %s (server and load clients in one process)\n", path)
	}
}
