package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
		public  string
	}{
		{name: "defaults", mutate: func(*Config) {}, public: "http://127.0.0.1:8080"},
		{name: "wildcard host gets localhost", mutate: func(c *Config) { c.Addr = "0.0.0.0:9000" }, public: "http://localhost:9000"},
		{name: "explicit public url", mutate: func(c *Config) { c.PublicURL = "https://coze.example.com/" }, public: "https://coze.example.com"},
		{name: "bad addr", mutate: func(c *Config) { c.Addr = "8080" }, wantErr: "--addr"},
		{name: "bad db", mutate: func(c *Config) { c.DB = "mysql://x" }, wantErr: "--db"},
		{name: "empty db", mutate: func(c *Config) { c.DB = "" }, wantErr: "--db"},
		{name: "public url with query", mutate: func(c *Config) { c.PublicURL = "https://x.example?a=1" }, wantErr: "--public-url"},
		{name: "public url not http", mutate: func(c *Config) { c.PublicURL = "ftp://x" }, wantErr: "--public-url"},
		{name: "log level", mutate: func(c *Config) { c.LogLevel = "loud" }, wantErr: "--log-level"},
		{name: "log format", mutate: func(c *Config) { c.LogFormat = "xml" }, wantErr: "--log-format"},
		{name: "revision poll too slow", mutate: func(c *Config) { c.RevisionPoll = 2 * time.Second }, wantErr: "--revision-poll"},
		{name: "trusted proxy not a CIDR", mutate: func(c *Config) { c.TrustedProxies = []string{"proxy.local"} }, wantErr: "--trusted-proxy"},
		{name: "metrics addr", mutate: func(c *Config) { c.MetricsAddr = "9464" }, wantErr: "--metrics-addr"},
		{name: "metrics addr is the main one", mutate: func(c *Config) { c.MetricsAddr = c.Addr }, wantErr: "--metrics-addr"},
		{name: "trusted proxies", mutate: func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8,192.0.2.7"} }, public: "http://127.0.0.1:8080"},
		{name: "cors origins", mutate: func(c *Config) { c.CORSOrigins = []string{"https://App.example.com/", " http://localhost:5173"} }, public: "http://127.0.0.1:8080"},
		{name: "cors origin with a path", mutate: func(c *Config) { c.CORSOrigins = []string{"https://app.example.com/cb"} }, wantErr: "--cors-origin"},
		{name: "gc heap floor negative", mutate: func(c *Config) { c.GCHeapFloorMiB = -1 }, wantErr: "--gc-heap-floor"},
		{name: "gc heap floor off", mutate: func(c *Config) { c.GCHeapFloorMiB = 0 }, public: "http://127.0.0.1:8080"},
		{name: "cors wildcard", mutate: func(c *Config) { c.CORSOrigins = []string{"*"} }, wantErr: "--cors-origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Validate() = %v, want an error about %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "cors origins" && strings.Join(c.CORSOrigins, " ") != "https://app.example.com http://localhost:5173" {
				t.Fatalf("CORSOrigins = %q, want them normalized", c.CORSOrigins)
			}
			if c.PublicURL != tc.public {
				t.Fatalf("PublicURL = %q, want %q", c.PublicURL, tc.public)
			}
		})
	}
}
