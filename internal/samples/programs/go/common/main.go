//go:build ignore

// A Coze OAuth sample: reads coze_oauth_config.json from the current directory and serves a small web page on
// http://127.0.0.1:$PORT (default 8080) that runs one authorization flow against the server named in the config.
// Standard library only; run it with bootstrap.sh (or: go run *.go).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

const configFile = "coze_oauth_config.json"

// config holds the keys of coze_oauth_config.json.
type config struct {
	ClientType   string `json:"client_type"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	PrivateKey   string `json:"private_key"`
	PublicKeyID  string `json:"public_key_id"`
	APIBase      string `json:"coze_api_base"`
	WWWBase      string `json:"coze_www_base"`
}

// app is the running sample: its config, the port it serves and the redirect URI built from it.
type app struct {
	cfg         config
	port        int
	redirectURI string
	flow        flow
}

// flow is what each client type adds: a check of its own config keys and its routes.
type flow interface {
	check(cfg *config) error
	routes(a *app, mux *http.ServeMux)
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := loadConfig(configFile)
	if err != nil {
		return err
	}
	if cfg.ClientType != clientType {
		return fmt.Errorf("%s: client_type is %q, but this is the %q sample", configFile, cfg.ClientType, clientType)
	}
	port, err := portFromEnv()
	if err != nil {
		return err
	}
	f := newFlow()
	if err := f.check(&cfg); err != nil {
		return fmt.Errorf("%s: %v", configFile, err)
	}
	a := &app{cfg: cfg, port: port, redirectURI: fmt.Sprintf("http://127.0.0.1:%d/callback", port), flow: f}
	mux := http.NewServeMux()
	mux.HandleFunc("/favicon.ico", http.NotFound)
	f.routes(a, mux)
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("cannot listen on 127.0.0.1:%d (is another program using it? set PORT to another port): %v", port, err)
	}
	fmt.Printf("Open http://127.0.0.1:%d\n", port)
	return http.Serve(ln, mux)
}

// loadConfig reads and checks the keys every client type needs.
func loadConfig(path string) (config, error) {
	var cfg config
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return cfg, fmt.Errorf("%s not found in the current directory; run the sample from the folder it was unzipped into", path)
	}
	if err != nil {
		return cfg, fmt.Errorf("cannot read %s: %v", path, err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return cfg, fmt.Errorf("%s is not valid JSON: %v", path, err)
	}
	if cfg.ClientType == "" {
		return cfg, fmt.Errorf("%s: client_type is missing", path)
	}
	if cfg.ClientID == "" {
		return cfg, fmt.Errorf("%s: client_id is missing", path)
	}
	if cfg.APIBase == "" {
		return cfg, fmt.Errorf("%s: coze_api_base is missing", path)
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	if !strings.HasPrefix(cfg.APIBase, "http://") && !strings.HasPrefix(cfg.APIBase, "https://") {
		return cfg, fmt.Errorf("%s: coze_api_base %q is not an http(s) URL", path, cfg.APIBase)
	}
	if cfg.WWWBase == "" {
		cfg.WWWBase = cfg.APIBase
	}
	cfg.WWWBase = strings.TrimRight(cfg.WWWBase, "/")
	return cfg, nil
}

// portFromEnv reads PORT (default 8080).
func portFromEnv() (int, error) {
	s := os.Getenv("PORT")
	if s == "" {
		return 8080, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("PORT=%q is not a port number (1-65535)", s)
	}
	return p, nil
}

func errMissing(key string) error { return fmt.Errorf("%s is missing", key) }
