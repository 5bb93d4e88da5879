package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/example/tasks/internal/readyfile"
)

// server is a tasksd the tool started.
type server struct {
	cmd      *exec.Cmd
	url      string
	debugURL string // "" unless started with a debug listener
	exited   chan struct{}
}

type serverConfig struct {
	bin, databaseURL, jwksURL string
	dbMaxConns                int
	debug                     bool
	logFile                   string
	extraEnv                  []string
}

// startServer runs `tasksd serve` on a free loopback port and waits until
// it writes its URL to its ready file.
func startServer(ctx context.Context, c serverConfig) (*server, error) {
	dir, err := os.MkdirTemp("", "tasks-bench-server-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // the server removes its ready file itself on exit
	readyFile := filepath.Join(dir, "ready.json")
	cmd := exec.Command(c.bin, "serve")
	cmd.Env = append(os.Environ(),
		"LISTEN_ADDR=127.0.0.1:0",
		"READY_FILE="+readyFile,
		"DATABASE_URL="+c.databaseURL,
		"AUTH_JWKS_URL="+c.jwksURL,
		"AUTH_JWT_SECRET=",
		"LOG_LEVEL=warn",
		"DB_MAX_CONNS="+strconv.Itoa(c.dbMaxConns),
	)
	s := &server{cmd: cmd, exited: make(chan struct{})}
	if c.debug {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cmd.Env = append(cmd.Env, "DEBUG_ADDR="+addr)
		s.debugURL = "http://" + addr
	}
	cmd.Env = append(cmd.Env, c.extraEnv...)
	cmd.Stderr = os.Stderr
	if c.logFile != "" {
		f, err := os.Create(c.logFile)
		if err != nil {
			return nil, err
		}
		defer f.Close() // the child has its own descriptor
		cmd.Stderr = f
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { cmd.Wait(); close(s.exited) }()

	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	info, err := readyfile.Wait(ctx, readyFile, s.exited)
	if err != nil {
		s.stop()
		return nil, fmt.Errorf("tasksd did not start (see its log): %w", err)
	}
	s.url = info.URL
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop ends the server gracefully, or kills it after 10 seconds.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.kill()
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// memSampler watches a process's memory: the largest VmRSS seen in
// /proc/PID/status, and VmHWM, the kernel's own peak.
type memSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	maxRSSKB int64
	hwmKB    int64
}

func sampleMemory(pid int, every time.Duration) *memSampler {
	m := &memSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			m.sample()
			select {
			case <-m.stop:
				return
			case <-t.C:
			}
		}
	}()
	return m
}

func (m *memSampler) sample() {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.pid))
	if err != nil {
		return
	}
	rss, hwm := parseStatus(string(data))
	m.mu.Lock()
	m.maxRSSKB = max(m.maxRSSKB, rss)
	m.hwmKB = max(m.hwmKB, hwm)
	m.mu.Unlock()
}

// reset starts a new peak (VmHWM cannot be reset, so it stays the peak
// since the process started).
func (m *memSampler) reset() {
	m.mu.Lock()
	m.maxRSSKB = 0
	m.mu.Unlock()
	m.sample()
}

// peaks returns the largest RSS since the last reset and VmHWM, in MiB.
func (m *memSampler) peaks() (rss, hwm float64) {
	m.sample()
	m.mu.Lock()
	defer m.mu.Unlock()
	return float64(m.maxRSSKB) / 1024, float64(m.hwmKB) / 1024
}

func (m *memSampler) close() { close(m.stop); <-m.done }

// parseStatus reads VmRSS and VmHWM (in kB) from /proc/PID/status.
func parseStatus(s string) (rssKB, hwmKB int64) {
	for line := range strings.Lines(s) {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		if name == "VmRSS" {
			rssKB = n
		} else {
			hwmKB = n
		}
	}
	return rssKB, hwmKB
}

// kill ends the server with SIGKILL: a crash.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}
