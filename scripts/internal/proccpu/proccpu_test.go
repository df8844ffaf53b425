package proccpu

import (
	"os"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, line string
		want       time.Duration
	}{
		{"plain", "42 (cozeauth) S 1 42 42 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 100 0 0", 2800 * time.Millisecond},
		{"spaces and parentheses in the name", "42 (a (b) c) R 1 42 42 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond},
		{"no command name", "42 cozeauth S 1", -1},
		{"too few fields", "42 (x) S 1 2 3", -1},
		{"not numbers", "42 (x) S 1 42 42 0 -1 0 0 0 0 0 a b 0 0", -1},
	}
	for _, tc := range tests {
		if got := parseStat([]byte(tc.line)); got != tc.want {
			t.Errorf("%s: parseStat = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestOf reads this process: some CPU used, and -1 for no process.
func TestOf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
	deadline := time.Now().Add(time.Minute)
	for Of(os.Getpid()) <= 0 && time.Now().Before(deadline) {
		for i := 0; i < 1e6; i++ {
			_ = time.Now()
		}
	}
	if got := Of(os.Getpid()); got <= 0 {
		t.Errorf("Of(self) = %v after a busy loop, want > 0", got)
	}
	if got := Of(0); got != -1 {
		t.Errorf("Of(0) = %v, want -1", got)
	}
}
