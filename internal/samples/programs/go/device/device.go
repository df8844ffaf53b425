//go:build ignore

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// The device client: a device code, a user code the user confirms in a browser, and polling of the token endpoint.
const clientType = "device"

func newFlow() flow { return deviceFlow{} }

type deviceFlow struct{}

func (deviceFlow) check(*config) error { return nil }

// deviceRun is one device authorization and its poller's progress.
type deviceRun struct {
	mu       sync.Mutex
	state    string // pending, slow_down, done, error
	interval int
	errKey   string    // message key for expired_token / access_denied
	err      *apiError // the failure, when state is error
	stop     chan struct{}
}

var devices = struct {
	sync.Mutex
	runs map[string]*deviceRun
	last *deviceRun
}{runs: map[string]*deviceRun{}}

func (deviceFlow) routes(a *app, mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.renderStart(w, r, "start", "/start", "")
	})
	mux.HandleFunc("/start", func(w http.ResponseWriter, r *http.Request) { deviceStart(a, w, r) })
	mux.HandleFunc("/device/status", func(w http.ResponseWriter, r *http.Request) { deviceStatus(w, r) })
	mux.HandleFunc("/device/done", func(w http.ResponseWriter, r *http.Request) { deviceDone(a, w, r) })
	mux.HandleFunc("/refresh", a.handleRefresh)
}

// deviceStart requests a device code (WIRE.md §3.3), starts polling and shows the link and the user code.
func deviceStart(a *app, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	obj, err := a.postJSON("/api/permission/oauth2/device/code", "", map[string]interface{}{"client_id": a.cfg.ClientID})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	var dc struct {
		DeviceCode      string `json:"device_code"`
		UserCode        string `json:"user_code"`
		VerificationURI string `json:"verification_uri"`
		ExpiresIn       int64  `json:"expires_in"`
		Interval        int    `json:"interval"`
	}
	raw, _ := json.Marshal(obj)
	if json.Unmarshal(raw, &dc) != nil || dc.DeviceCode == "" || dc.UserCode == "" || dc.VerificationURI == "" {
		a.fail(w, r, &apiError{Message: "the device code endpoint answered without device_code, user_code or verification_uri"})
		return
	}
	if dc.Interval < 1 {
		dc.Interval = 5
	}
	run := &deviceRun{state: "pending", interval: dc.Interval, stop: make(chan struct{})}
	id := randomHex(12)
	devices.Lock()
	if devices.last != nil {
		close(devices.last.stop) // one authorization at a time: stop polling for the previous one
	}
	devices.runs = map[string]*deviceRun{id: run}
	devices.last = run
	devices.Unlock()
	deadline := time.Unix(dc.ExpiresIn, 0)
	if !deadline.After(time.Now()) { // not an absolute time: fall back to 10 minutes
		deadline = time.Now().Add(10 * time.Minute)
	}
	go run.poll(a, dc.DeviceCode, deadline)
	link := dc.VerificationURI + "?user_code=" + url.QueryEscape(dc.UserCode)
	a.render(w, r, http.StatusOK, "device", page{Device: &deviceView{ID: id, VerificationURL: link, UserCode: dc.UserCode}})
}

// poll asks the token endpoint for the device token every interval (slow_down adds 5 s) until a final answer.
func (run *deviceRun) poll(a *app, deviceCode string, deadline time.Time) {
	body := map[string]interface{}{
		"client_id":   a.cfg.ClientID,
		"grant_type":  "urn:ietf:params:oauth:grant-type:device_code",
		"device_code": deviceCode,
	}
	for {
		run.mu.Lock()
		wait := time.Duration(run.interval) * time.Second
		run.mu.Unlock()
		select {
		case <-run.stop:
			return
		case <-time.After(wait):
		}
		t, err := a.requestToken("", body)
		if err == nil {
			u, err := a.me(t.AccessToken)
			if err != nil {
				run.finish("error", "", err)
				return
			}
			current.set(t, u)
			run.finish("done", "", nil)
			return
		}
		e := err.(*apiError)
		switch e.Code {
		case "authorization_pending":
		case "slow_down":
			run.mu.Lock()
			run.state = "slow_down"
			run.interval += 5
			run.mu.Unlock()
		case "expired_token":
			run.finish("error", "expired", e)
			return
		case "access_denied":
			run.finish("error", "denied", e)
			return
		default:
			run.finish("error", "", e)
			return
		}
		if time.Now().After(deadline) {
			run.finish("error", "expired", &apiError{Code: "expired_token", Message: "the device code expired"})
			return
		}
	}
}

func (run *deviceRun) finish(state, key string, err error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.state, run.errKey = state, key
	if err != nil {
		run.err = err.(*apiError)
		fmt.Println("device authorization ended:", run.err.Error())
	}
}

func lookupRun(r *http.Request) *deviceRun {
	devices.Lock()
	defer devices.Unlock()
	return devices.runs[r.URL.Query().Get("id")]
}

// deviceStatus answers the device page's polling: {"state", "message", "next"}.
func deviceStatus(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	out := map[string]string{}
	run := lookupRun(r)
	if run == nil {
		out["state"], out["message"] = "error", tr(l, "unknownFlow")
	} else {
		run.mu.Lock()
		out["state"] = run.state
		switch run.state {
		case "pending":
			out["message"] = tr(l, "pending")
		case "slow_down":
			out["state"] = "pending"
			out["message"] = fmt.Sprintf(tr(l, "slowDown"), run.interval)
		case "done":
			out["message"] = tr(l, "done")
			out["next"] = "/device/done?id=" + url.QueryEscape(r.URL.Query().Get("id"))
		default:
			out["message"] = run.err.Error()
			if run.errKey != "" {
				out["message"] = tr(l, run.errKey) + " (" + run.err.Error() + ")"
			}
		}
		run.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

// deviceDone shows the success page once the poller has the token (or the error page).
func deviceDone(a *app, w http.ResponseWriter, r *http.Request) {
	run := lookupRun(r)
	if run == nil {
		a.failWith(w, r, http.StatusOK, &apiError{Message: tr(lang(r), "unknownFlow")})
		return
	}
	run.mu.Lock()
	state, runErr := run.state, run.err
	run.mu.Unlock()
	switch state {
	case "done":
		t, u, _ := current.get()
		a.renderSuccess(w, r, t, u)
	case "error":
		a.fail(w, r, runErr)
	default:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	}
}
