// Command benchgateway is the load benchmark behind scripts/bench-gateway: it
// runs a minimal Coze-shaped upstream (this program, as "benchgateway
// upstream"), seeds a SQLite database with the admin CLI, starts `cozeauth
// serve --upstream` in front of the upstream, and measures, in one run, the
// same requests sent through the gateway and straight to the upstream:
//
//   - throughput of a small JSON answer (GET /v1/bots/{id}, authorized by
//     Bot.getMetadata) under concurrent keep-alive load: ratio gateway/direct;
//   - p50 latency of the same request sent one at a time: the gateway's
//     added p50;
//   - SSE time to first event (POST /v3/chat with stream): the difference of
//     the medians.
//
// Requests alternate between the two targets so machine noise falls on both.
// Everything listens on 127.0.0.1 and is removed at exit.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cozeauth/cozeauth/scripts/internal/loopback"
	"github.com/cozeauth/cozeauth/scripts/internal/proccpu"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "upstream" {
		runUpstream()
		return
	}
	bin := flag.String("bin", "bin/cozeauth", "the cozeauth binary")
	conns := flag.Int("conns", 32, "concurrent connections of the throughput runs")
	duration := flag.Duration("duration", 5*time.Second, "each throughput run")
	rounds := flag.Int("rounds", 3, "throughput runs per target, alternating; the median is reported")
	serial := flag.Int("serial", 3000, "requests per target for the p50 latency (one at a time)")
	sse := flag.Int("sse", 500, "streams per target for the time to first event")
	accessLog := flag.Bool("access-log", true, "the gateway logs every request (as shipped), to a file")
	flag.Parse()
	if err := run(*bin, *conns, *duration, *rounds, *serial, *sse, *accessLog); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gateway:", err)
		os.Exit(1)
	}
}

const botID = "bench-bot"

// ---------------------------------------------------------------- upstream

var botJSON = []byte(`{"code":0,"msg":"","data":{"bot_id":"bench-bot","name":"Bench","description":"a small JSON answer","space_id":"1"},"detail":{"logid":"u"}}` + "\n")

func runUpstream() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/bots/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(botJSON)
	})
	mux.HandleFunc("POST /v3/chat", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		_, _ = io.WriteString(w, "event:conversation.chat.created\ndata:{\"id\":\"1\",\"status\":\"created\"}\n\n")
		_ = rc.Flush()
		_, _ = io.WriteString(w, "event:conversation.chat.completed\ndata:{\"id\":\"1\",\"status\":\"completed\"}\n\nevent:done\ndata:\"[DONE]\"\n\n")
	})
	_ = (&http.Server{Handler: mux}).Serve(ln)
}

// ---------------------------------------------------------------- the run

type proc struct {
	cmd *exec.Cmd
}

func (p *proc) stop() {
	if p != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

func run(bin string, conns int, duration time.Duration, rounds, serial, sse int, accessLog bool) error {
	dir, err := os.MkdirTemp("", "cozeauth-bench-gw-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	upCmd := exec.Command(self, "upstream")
	upOut, _ := upCmd.StdoutPipe()
	upCmd.Stderr = os.Stderr
	if err := upCmd.Start(); err != nil {
		return err
	}
	up := &proc{upCmd}
	defer up.stop()
	line, err := bufio.NewReader(upOut).ReadString('\n')
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	upURL := strings.TrimSpace(line)

	db := filepath.Join(dir, "bench.db")
	admin := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(bin, append([]string{"admin", "--db", db, "--create"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("admin %v: %s", args, ee.Stderr)
		}
		return string(out), err
	}
	if _, err := admin("bench-password\n", "user", "create", "--username", "bench", "--password-stdin"); err != nil {
		return err
	}
	wsOut, err := admin("", "workspace", "create", "--name", "Bench", "--owner", "bench")
	if err != nil {
		return err
	}
	ws := field(wsOut, "workspace_id")
	if _, err := admin("", "resource", "create", "--workspace", ws, "--type", "bot", "--id", botID); err != nil {
		return err
	}
	patOut, err := admin("", "pat", "create", "--user", "bench", "--name", "bench", "--days", "1", "--workspaces", "all",
		"--permission", "Bot.getMetadata", "--permission", "Bot.chat")
	if err != nil {
		return err
	}
	token := field(patOut, "token")

	gwAddr, err := loopback.FreeAddr()
	if err != nil {
		return err
	}
	gwURL := "http://" + gwAddr
	logf, err := os.Create(filepath.Join(dir, "cozeauth.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	gwCmd := exec.Command(bin, "serve", "--addr", strings.TrimPrefix(gwURL, "http://"), "--db", db,
		"--upstream", upURL, "--upstream-token", "bench-upstream-token", fmt.Sprintf("--access-log=%t", accessLog))
	gwCmd.Stdout, gwCmd.Stderr = logf, logf
	if err := gwCmd.Start(); err != nil {
		return err
	}
	gw := &proc{gwCmd}
	defer gw.stop()
	if err := loopback.WaitReady(gwURL+"/readyz", 15*time.Second); err != nil {
		return err
	}

	jsonPath := "/v1/bots/" + botID
	targets := []target{{"direct", upURL}, {"gateway", gwURL}}
	// Both must answer 200 before measuring.
	for _, t := range targets {
		if err := checkOnce(t.url+jsonPath, token); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	fmt.Printf("bench-gateway: %d cores, %d connections, %s × %d rounds per target, access log %t\n",
		numCPU(), conns, duration, rounds, accessLog)

	// Warm up both.
	for _, t := range targets {
		load(t.url+jsonPath, token, conns, time.Second)
	}
	rps := map[string][]float64{}
	// CPU time of each process per request, from /proc (Linux): what the
	// gateway costs next to the upstream it fronts.
	var gwCPU, gwUpCPU, upCPU time.Duration
	var gwReqs, upReqs float64
	for range rounds {
		for _, t := range targets {
			g0, u0 := proccpu.Of(gwCmd.Process.Pid), proccpu.Of(upCmd.Process.Pid)
			start := time.Now()
			r := load(t.url+jsonPath, token, conns, duration)
			n := r * time.Since(start).Seconds()
			g1, u1 := proccpu.Of(gwCmd.Process.Pid), proccpu.Of(upCmd.Process.Pid)
			if t.name == "gateway" {
				gwCPU, gwUpCPU, gwReqs = gwCPU+g1-g0, gwUpCPU+u1-u0, gwReqs+n
			} else {
				upCPU, upReqs = upCPU+u1-u0, upReqs+n
			}
			rps[t.name] = append(rps[t.name], r)
		}
	}
	direct, through := median(rps["direct"]), median(rps["gateway"])
	fmt.Printf("small JSON throughput: direct %.0f req/s, gateway %.0f req/s, ratio=%.2f (goal ≥ 0.70)\n",
		direct, through, through/direct)
	if gwReqs > 0 && upReqs > 0 && gwCPU > 0 {
		fmt.Printf("CPU per request: upstream alone %s; through the gateway: gateway %s + upstream %s\n",
			usf(time.Duration(float64(upCPU)/upReqs)), usf(time.Duration(float64(gwCPU)/gwReqs)), usf(time.Duration(float64(gwUpCPU)/gwReqs)))
	}

	lat, err := serialLatency(targets, jsonPath, token, serial)
	if err != nil {
		return err
	}
	fmt.Printf("small JSON p50, one request at a time: direct %s, gateway %s, added=%s (goal ≤ 0.30ms)\n",
		msf(lat[0]), msf(lat[1]), msf(lat[1]-lat[0]))

	ttfe, err := sseFirstEvent(targets, token, sse)
	if err != nil {
		return err
	}
	fmt.Printf("SSE time to first event (median): direct %s, gateway %s, difference=%s (goal within 1ms)\n",
		msf(ttfe[0]), msf(ttfe[1]), msf(ttfe[1]-ttfe[0]))
	return nil
}

type target struct{ name, url string }

func field(jsonText, key string) string {
	i := strings.Index(jsonText, `"`+key+`":"`)
	if i < 0 {
		return ""
	}
	rest := jsonText[i+len(key)+4:]
	return rest[:strings.IndexByte(rest, '"')]
}

func newClient(conns int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
	}}
}

func checkOnce(u, token string) error {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"code":0`)) {
		return fmt.Errorf("%s: %s %s", u, resp.Status, b)
	}
	return nil
}

// load runs conns keep-alive loops for d and returns requests per second.
func load(u, token string, conns int, d time.Duration) float64 {
	c := newClient(conns)
	defer c.CloseIdleConnections()
	var n, failed atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			for ctx.Err() == nil {
				resp, err := c.Do(req)
				if err != nil {
					failed.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					n.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "bench-gateway: %d failed requests to %s\n", f, u)
	}
	return float64(n.Load()) / time.Since(start).Seconds()
}

// serialLatency sends n requests to each target one at a time, alternating,
// and returns the p50 of each.
func serialLatency(targets []target, path, token string, n int) ([]time.Duration, error) {
	c := newClient(1)
	lat := make([][]time.Duration, len(targets))
	for i := range n + 100 {
		for j, t := range targets {
			req, _ := http.NewRequest("GET", t.url+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			start := time.Now()
			resp, err := c.Do(req)
			if err != nil {
				return nil, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if i >= 100 { // the first 100 warm up
				lat[j] = append(lat[j], time.Since(start))
			}
		}
	}
	out := make([]time.Duration, len(targets))
	for j := range lat {
		out[j] = medianD(lat[j])
	}
	return out, nil
}

// sseFirstEvent opens n chat streams per target, alternating, and returns the
// median time from sending the request to reading the first event's data.
func sseFirstEvent(targets []target, token string, n int) ([]time.Duration, error) {
	c := newClient(1)
	body := []byte(`{"bot_id":"` + botID + `","user_id":"u","stream":true,"additional_messages":[{"role":"user","content":"hi","content_type":"text"}]}`)
	lat := make([][]time.Duration, len(targets))
	for i := range n + 20 {
		for j, t := range targets {
			req, _ := http.NewRequest("POST", t.url+"/v3/chat", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			start := time.Now()
			resp, err := c.Do(req)
			if err != nil {
				return nil, err
			}
			br := bufio.NewReader(resp.Body)
			for {
				line, err := br.ReadString('\n')
				if err != nil {
					resp.Body.Close()
					return nil, fmt.Errorf("%s: stream ended before an event: %v", t.name, err)
				}
				if strings.HasPrefix(line, "data:") {
					break
				}
			}
			d := time.Since(start)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if i >= 20 {
				lat[j] = append(lat[j], d)
			}
		}
	}
	out := make([]time.Duration, len(targets))
	for j := range lat {
		out[j] = medianD(lat[j])
	}
	return out, nil
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianD(v []time.Duration) time.Duration {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func usf(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d.Nanoseconds())/1e3) }

func msf(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d.Nanoseconds())/1e6) }

func numCPU() int { return runtime.NumCPU() }
