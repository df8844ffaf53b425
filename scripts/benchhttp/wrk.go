package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// wrkLua makes wrk print one machine-readable line; latencies are in µs.
const wrkLua = `local method = os.getenv("BENCH_METHOD")
if method and method ~= "" and method ~= "GET" then
  wrk.method = method
  wrk.body = os.getenv("BENCH_BODY")
  wrk.headers["Content-Type"] = "application/json"
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50=%d p90=%d p99=%d p999=%d max=%d mean=%.1f\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
`

type loadConfig struct {
	threads, conns int
	duration       time.Duration
	warmup         time.Duration
	luaPath        string
	// The request: GET path, or POST path with body (a JSON object).
	path, body string
}

// method is the load's HTTP method.
func (lc loadConfig) method() string {
	if lc.body != "" {
		return http.MethodPost
	}
	return http.MethodGet
}

// wrkResult is one wrk run.
type wrkResult struct {
	requests   int64
	duration   time.Duration
	rps        float64
	p50, p90   time.Duration
	p99, p999  time.Duration
	max        time.Duration
	errors     int64 // connect, read, write and timeout errors
	non2xx     int64
	writesSeen string        // database writes observed while it ran
	cpuPerReq  time.Duration // CPU time of the serving process per request; 0 if unknown
}

func (r wrkResult) String() string {
	s := fmt.Sprintf("req/s=%8.0f  p50=%-8s p90=%-8s p99=%-8s p99.9=%-8s max=%-8s",
		r.rps, ms(r.p50), ms(r.p90), ms(r.p99), ms(r.p999), ms(r.max))
	if r.cpuPerReq > 0 {
		s += fmt.Sprintf(" cpu/req=%-7s", us(r.cpuPerReq))
	}
	if r.errors > 0 || r.non2xx > 0 {
		s += fmt.Sprintf("  ERRORS=%d non-2xx=%d", r.errors, r.non2xx)
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

func us(d time.Duration) string { return fmt.Sprintf("%.1fµs", float64(d.Nanoseconds())/1000) }

func writeLua(dir string) (string, error) {
	p := dir + "/report.lua"
	return p, os.WriteFile(p, []byte(wrkLua), 0o600)
}

// runWrk runs wrk against url for d with the PAT as bearer token.
func runWrk(ctx context.Context, lc loadConfig, url, token string, d time.Duration) (wrkResult, error) {
	secs := max(int((d+time.Second-1)/time.Second), 1)
	ctx, cancel := context.WithTimeout(ctx, d+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "wrk", "-t"+strconv.Itoa(lc.threads), "-c"+strconv.Itoa(lc.conns),
		"-d"+strconv.Itoa(secs)+"s", "--timeout", "5s", "-s", lc.luaPath,
		"-H", "Authorization: Bearer "+token, url)
	cmd.Env = append(os.Environ(), "BENCH_METHOD="+lc.method(), "BENCH_BODY="+lc.body)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %w: %s%s", err, out.String(), errb.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "WRKRESULT ") {
			continue
		}
		kv := map[string]float64{}
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return wrkResult{}, fmt.Errorf("wrk output %q: %w", line, err)
			}
			kv[k] = x
		}
		us := func(k string) time.Duration { return time.Duration(kv[k] * float64(time.Microsecond)) }
		r := wrkResult{
			requests: int64(kv["requests"]), duration: us("duration_us"),
			p50: us("p50"), p90: us("p90"), p99: us("p99"), p999: us("p999"), max: us("max"),
			errors: int64(kv["connect"] + kv["read"] + kv["write"] + kv["timeout"]),
			non2xx: int64(kv["status"]),
		}
		if r.duration > 0 {
			r.rps = float64(r.requests) / r.duration.Seconds()
		}
		return r, nil
	}
	return wrkResult{}, fmt.Errorf("wrk printed no result: %s%s", out.String(), errb.String())
}
