// Package proccpu reads how much CPU processes have used, from Linux's
// /proc, for the load scripts' CPU-per-request figures.
package proccpu

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// Of returns the user+system CPU time process pid has used, or -1 when it
// cannot be read (no /proc, no such process).
func Of(pid int) time.Duration {
	if pid <= 0 {
		return -1
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	return parseStat(b)
}

// parseStat reads utime and stime from a /proc/PID/stat line: the 14th and
// 15th fields of the line, in clock ticks (USER_HZ, 100 on Linux), counted
// after the command name, which is in parentheses and may hold spaces.
func parseStat(b []byte) time.Duration {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return -1
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(ut+st) * (time.Second / 100)
}

// OfCommand returns the CPU time used by the live processes whose command
// name (/proc/PID/comm) is name, e.g. "postgres" for a local PostgreSQL's
// server and backends, and how many there are (0 and 0 without /proc).
// Processes that have exited no longer count.
func OfCommand(name string) (time.Duration, int) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, 0
	}
	var total time.Duration
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + e.Name() + "/comm")
		if err != nil || string(bytes.TrimSpace(comm)) != name {
			continue
		}
		if d := Of(pid); d >= 0 {
			total += d
			n++
		}
	}
	return total, n
}
