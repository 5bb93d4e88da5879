package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// ServerState is what the server holds at one moment: its resident
// memory (from /proc), its goroutines and the Go runtime's heap and stacks
// (from its pprof listener), with the machine's load average then.
type ServerState struct {
	RSSMiB        float64 `json:"rss_mib,omitempty"`
	Goroutines    int     `json:"goroutines,omitempty"`
	HeapInuseMiB  float64 `json:"heap_inuse_mib,omitempty"`
	StackInuseMiB float64 `json:"stack_inuse_mib,omitempty"`
	LoadAvg       string  `json:"load_avg,omitempty"`
}

// serverProbe reads a server's state; pid and debugURL are 0 and "" when
// unknown (a server the tool did not start, without -debug-url).
type serverProbe struct {
	pid      int
	debugURL string
}

func (p serverProbe) state(ctx context.Context) ServerState {
	s := ServerState{LoadAvg: loadAverage()}
	if p.pid != 0 {
		s.RSSMiB = rssMiB(p.pid)
	}
	if p.debugURL == "" {
		return s
	}
	if n, err := p.goroutines(ctx); err == nil {
		s.Goroutines = n
	} else {
		fmt.Fprintln(os.Stderr, "goroutines:", err)
	}
	if m, err := p.memStats(ctx); err == nil {
		s.HeapInuseMiB = float64(m["HeapInuse"]) / (1 << 20)
		s.StackInuseMiB = float64(m["Stack"]) / (1 << 20)
	} else {
		fmt.Fprintln(os.Stderr, "memory statistics:", err)
	}
	return s
}

// goroutines is the server's goroutine count, from the first line of
// /debug/pprof/goroutine?debug=1.
func (p serverProbe) goroutines(ctx context.Context) (int, error) {
	body, err := p.get(ctx, "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	return parseGoroutineTotal(body)
}

// memStats is the runtime.MemStats the heap profile ends with.
func (p serverProbe) memStats(ctx context.Context) (map[string]int64, error) {
	body, err := p.get(ctx, "/debug/pprof/heap?debug=1")
	if err != nil {
		return nil, err
	}
	return parseMemStats(body), nil
}

// collect has the server collect garbage (the heap profile's gc=1), saving
// the profile to file unless file is "".
func (p serverProbe) collect(ctx context.Context, file string) error {
	body, err := p.get(ctx, "/debug/pprof/heap?gc=1")
	if err != nil || file == "" {
		return err
	}
	return os.WriteFile(file, []byte(body), 0o644)
}

// waitGoroutines polls until the server has at most n goroutines, for at
// most d, and returns the last count.
func (p serverProbe) waitGoroutines(ctx context.Context, n int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		got, err := p.goroutines(ctx)
		if err != nil || got <= n || !time.Now().Before(deadline) || ctx.Err() != nil {
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (p serverProbe) get(ctx context.Context, path string) (string, error) {
	if p.debugURL == "" {
		return "", errors.New("no debug listener")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.debugURL+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", path, resp.Status)
	}
	data, err := io.ReadAll(resp.Body)
	return string(data), err
}

// parseGoroutineTotal reads "goroutine profile: total N".
func parseGoroutineTotal(body string) (int, error) {
	line, _, _ := strings.Cut(body, "\n")
	n, ok := strings.CutPrefix(line, "goroutine profile: total ")
	if !ok {
		return 0, fmt.Errorf("unexpected goroutine profile: %.60q", line)
	}
	return strconv.Atoi(strings.TrimSpace(n))
}

// parseMemStats reads the "# Name = value" lines of a heap profile in
// text form; for "# Stack = inuse / sys" and the like it keeps the first
// number, the memory in use.
func parseMemStats(body string) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		name, value, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		value, _, _ = strings.Cut(value, " ")
		if n, err := strconv.ParseInt(value, 10, 64); err == nil {
			out[name] = n
		}
	}
	return out
}

// rssMiB is a process's VmRSS now, in MiB (0 when unreadable).
func rssMiB(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	rss, _ := parseStatus(string(data))
	return float64(rss) / 1024
}

// loadAverage is /proc/loadavg's 1, 5 and 15 minute averages: how busy
// the machine's other tenants kept it while a number was taken.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return f[0] + " " + f[1] + " " + f[2]
}
