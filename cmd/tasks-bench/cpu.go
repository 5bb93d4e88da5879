package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// cpuMeter measures the CPU time the server, this process and PostgreSQL
// use during a run; each is skipped when its pid is unknown.
type cpuMeter struct {
	pids  [3]int // server, client, database (a process tree)
	begin [3]time.Duration
	mu    sync.Mutex
}

func newCPUMeter(srv *server, pgPID int) *cpuMeter {
	m := &cpuMeter{pids: [3]int{0, os.Getpid(), pgPID}}
	if srv != nil {
		m.pids[0] = srv.pid()
	}
	return m
}

func (m *cpuMeter) read() (out [3]time.Duration) {
	for i, pid := range m.pids {
		if pid == 0 {
			continue
		}
		if i == 2 {
			out[i], _ = treeCPUTime(pid)
		} else {
			out[i], _ = cpuTime(pid)
		}
	}
	return out
}

func (m *cpuMeter) start() {
	b := m.read()
	m.mu.Lock()
	m.begin = b
	m.mu.Unlock()
}

// perCall returns the CPU µs per call since start, for server, client and
// database (0 where unknown).
func (m *cpuMeter) perCall(calls int64) (server, client, db float64) {
	end := m.read()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out [3]float64
	for i := range out {
		if m.pids[i] != 0 && m.begin[i] > 0 {
			out[i] = float64((end[i] - m.begin[i]).Microseconds()) / float64(calls)
		}
	}
	return out[0], out[1], out[2]
}

// cpuTime returns the CPU time (user plus system) process pid has used, from
// /proc/PID/stat, at the kernel's clock-tick resolution (usually 10ms).
func cpuTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	own, _, err := parseStatCPU(string(data))
	return own, err
}

// treeCPUTime is the CPU time of a PostgreSQL postmaster and its backends:
// its own, its reaped children's (cutime, cstime) and its live children's.
func treeCPUTime(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	own, reaped, err := parseStatCPU(string(data))
	if err != nil {
		return 0, err
	}
	total := own + reaped
	children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	for _, f := range strings.Fields(string(children)) {
		child, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		if c, err := cpuTime(child); err == nil {
			total += c
		}
	}
	return total, nil
}

// clockTicks is USER_HZ, which Linux fixes at 100 for user space.
const clockTicks = 100

// parseStatCPU reads utime+stime (fields 14 and 15) and cutime+cstime (16
// and 17) from a /proc/PID/stat line. The command name (field 2) may hold
// spaces, so fields are counted after its closing parenthesis.
func parseStatCPU(stat string) (own, reaped time.Duration, err error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed /proc/PID/stat")
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 15 {
		return 0, 0, errors.New("malformed /proc/PID/stat")
	}
	var t [4]int64
	for j := range t {
		if t[j], err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return 0, 0, err
		}
	}
	tick := func(n int64) time.Duration { return time.Duration(n) * time.Second / clockTicks }
	return tick(t[0] + t[1]), tick(t[2] + t[3]), nil
}
