package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/cozeauth/cozeauth/scripts/internal/loopback"
)

// child is a server process started by the benchmark.
type child struct {
	name string
	addr string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	out  *os.File
}

// startChild runs path args... with stdout and stderr going to logPath
// ("" discards them) and waits until GET readyPath answers 200.
func startChild(ctx context.Context, name, addr, logPath, readyPath string, path string, args ...string) (*child, error) {
	cmd := exec.Command(path, args...)
	// If this program dies without cleaning up, the child goes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	c := &child{name: name, addr: addr, cmd: cmd, done: make(chan struct{})}
	if logPath != "" {
		f, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		c.out = f
		cmd.Stdout, cmd.Stderr = f, f
	}
	if err := cmd.Start(); err != nil {
		if c.out != nil {
			c.out.Close()
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	if err := c.waitReady(ctx, readyPath); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

func (c *child) url(path string) string { return "http://" + c.addr + path }

func (c *child) pid() int { return c.cmd.Process.Pid }

// waitReady polls readyPath until it answers 200, the child exits, or a
// minute passes.
func (c *child) waitReady(ctx context.Context, readyPath string) error {
	err := pollReady(ctx, c.url(readyPath), c.done)
	if errors.Is(err, errExited) {
		return fmt.Errorf("%s exited before it was ready: %v (log: %s)", c.name, c.err, c.logName())
	}
	if err != nil {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	return nil
}

var errExited = errors.New("exited")

// pollReady polls url until it answers 200, done is closed (errExited), or a
// minute passes.
func pollReady(ctx context.Context, url string, done <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return errExited
		case <-ctx.Done():
			return fmt.Errorf("not ready at %s: %w", url, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *child) logName() string {
	if c.out == nil {
		return "discarded"
	}
	return c.out.Name()
}

// stop asks the child to shut down (SIGTERM: a graceful shutdown, with the
// final last-used flush) and kills it after 30 seconds.
func (c *child) stop() error {
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	if c.out != nil {
		c.out.Close()
	}
	var ee *exec.ExitError
	if errors.As(c.err, &ee) && ee.ExitCode() == -1 {
		return nil // ended by our signal
	}
	return c.err
}

// response is what a request returned, for building the bare handler.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request with the PAT as bearer token and a JSON body
// (none when body is "").
func send(ctx context.Context, method, url, token, body string) (*response, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// bareHeaders are the headers the bare handler copies from the server's
// answer; Date and Content-Length are added by net/http for both.
var bareHeaders = []string{"Content-Type", "Cache-Control", "X-Tt-Logid"}

// startBare runs this program's "bare" subcommand: a plain net/http handler
// that answers every request with the server's captured body and headers.
func startBare(ctx context.Context, self, dir string, r *response) (*child, error) {
	bodyPath := dir + "/bare-body.json"
	if err := os.WriteFile(bodyPath, r.body, 0o600); err != nil {
		return nil, err
	}
	addr, err := loopback.FreeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"bare", "--addr", addr, "--body", bodyPath}
	for _, h := range bareHeaders {
		if v := r.header.Get(h); v != "" {
			args = append(args, "--header", h+": "+v)
		}
	}
	return startChild(ctx, "bare handler", addr, dir+"/bare.log", "/", self, args...)
}

// runBare is the "bare" subcommand.
func runBare(args []string) error {
	fs := flag.NewFlagSet("bare", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	bodyPath := fs.String("body", "", "file with the response body")
	var headers [][2]string
	fs.Func("header", "response header \"Name: value\" (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, ":")
		if !ok {
			return fmt.Errorf("header %q: want Name: value", s)
		}
		headers = append(headers, [2]string{strings.TrimSpace(k), strings.TrimSpace(v)})
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	body, err := os.ReadFile(*bodyPath)
	if err != nil {
		return err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // read a POST's body, as the server does
		wh := w.Header()
		for _, kv := range headers {
			wh.Set(kv[0], kv[1])
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
	// The same http.Server settings as internal/server, so both pay for the
	// same per-connection deadlines.
	hs := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
