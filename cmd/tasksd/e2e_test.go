package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/pgtest"
	"github.com/example/tasks/internal/readyfile"
)

// The end-to-end tests run the real binary, as a user or a platform would.

var buildOnce struct {
	sync.Once
	path string
	err  error
}

// mustBuildBinary builds cmd/tasksd once per test binary.
func mustBuildBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tasksd-e2e-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "tasksd")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = &buildError{err, string(out)}
		}
	})
	if buildOnce.err != nil {
		tb.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return "go build: " + e.err.Error() + "\n" + e.out }

// process is the binary running with its output collected.
type process struct {
	cmd       *exec.Cmd
	readyFile string // where a server writes its URL (READY_FILE)
	mu        sync.Mutex
	output    strings.Builder
	lines     chan string
	exited    chan error
	gone      chan struct{} // closed when the process has exited
}

// mustRun starts the binary with args and env (on top of a minimal
// environment, with a READY_FILE of its own) and kills it when the test
// ends.
func mustRun(tb testing.TB, env map[string]string, args ...string) *process {
	tb.Helper()
	cmd := exec.Command(mustBuildBinary(tb), args...)
	readyFile := filepath.Join(tb.TempDir(), "ready.json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + tb.TempDir(), "READY_FILE=" + readyFile}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &process{cmd: cmd, readyFile: readyFile, lines: make(chan string, 100), exited: make(chan error, 1), gone: make(chan struct{})}
	cmd.Stderr = &lockedWriter{p}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.write(sc.Text() + "\n")
			p.lines <- sc.Text()
		}
		close(p.lines)
		err := cmd.Wait()
		close(p.gone)
		p.exited <- err
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		if tb.Failed() {
			tb.Logf("output of %v:\n%s", args, p.text())
		}
	})
	return p
}

func (p *process) write(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.output.WriteString(s)
}

func (p *process) text() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

type lockedWriter struct{ p *process }

func (w *lockedWriter) Write(b []byte) (int, error) { w.p.write(string(b)); return len(b), nil }

// mustWaitListening returns the base URL the server wrote to its ready
// file.
func (p *process) mustWaitListening(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	info, err := readyfile.Wait(ctx, p.readyFile, p.gone)
	if err != nil {
		tb.Fatal(err)
	}
	return info.URL
}

// mustStop stops a server with SIGTERM and waits for it to exit cleanly.
func (p *process) mustStop(tb testing.TB) {
	tb.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		tb.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			tb.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(time.Minute):
		tb.Fatal("the server did not stop on SIGTERM")
	}
}

// logLines returns the JSON log lines (LOG_FORMAT=json) the process wrote
// whose msg is msg.
func (p *process) logLines(msg string) []map[string]any {
	var out []map[string]any
	for line := range strings.Lines(p.text()) {
		var entry map[string]any
		if json.Unmarshal([]byte(line), &entry) == nil && entry["msg"] == msg {
			out = append(out, entry)
		}
	}
	return out
}

// mustOutput runs the binary to completion and returns its standard output.
func mustOutput(tb testing.TB, env map[string]string, args ...string) string {
	tb.Helper()
	p := mustRun(tb, env, args...)
	var out strings.Builder
	for line := range p.lines {
		out.WriteString(line + "\n")
	}
	if err := <-p.exited; err != nil {
		tb.Fatalf("%v: %v\n%s", args, err, p.text())
	}
	return out.String()
}

// TestEndToEndPostgres starts the real binary on :0 against PostgreSQL,
// calls it with a token from its own token command, and stops it with
// SIGTERM.
func TestEndToEndPostgres(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"LISTEN_ADDR":     "127.0.0.1:0",
		"DATABASE_URL":    pgtest.NewDatabase(t),
		"AUTH_JWT_SECRET": mustRandomHex(t, 32),
		"DATA_DIR":        t.TempDir(),
		"LOG_FORMAT":      "json",
	}
	// Without an auth source the server refuses to start.
	noAuth := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATABASE_URL": env["DATABASE_URL"]}
	p := mustRun(t, noAuth)
	if err := <-p.exited; err == nil || !strings.Contains(p.text(), "no token source") {
		t.Errorf("started without an auth source: %v\n%s", err, p.text())
	}

	srv := mustRun(t, env, "serve")
	baseURL := srv.mustWaitListening(t)
	token := strings.TrimSpace(mustOutput(t, env, "token", "-sub", "e2e-user", "-ttl", "5m"))

	s := &testServer{baseURL: baseURL}
	c := connectDialer()(t, s, token)
	created := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "from the binary"})
	mustEqualTask(t, mustGet(t, c, created.GetId()), created)

	status := mustOutput(t, env, "migrate", "status")
	if !strings.Contains(status, "applied") {
		t.Errorf("migrate status:\n%s", status)
	}
	if out := mustOutput(t, env, "migrate", "up"); !strings.Contains(out, "nothing to do") {
		t.Errorf("migrate up on a migrated database:\n%s", out)
	}

	srv.mustStop(t)
	if _, err := os.Stat(srv.readyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the ready file outlived the server: %v", err)
	}
	// One JSON log line per call, with the user and never the token.
	logs := srv.text()
	if strings.Contains(logs, token) {
		t.Error("the token was logged")
	}
	var sawCall bool
	for _, entry := range srv.logLines("rpc") {
		if entry["procedure"] == "/tasks.v1.TaskService/CreateTask" && entry["user"] == "e2e-user" && entry["code"] == "ok" {
			sawCall = true
		}
	}
	if !sawCall {
		t.Errorf("no log line for the CreateTask call:\n%s", logs)
	}

	// With the server stopped, the schema can be rolled back and reapplied.
	if out := mustOutput(t, env, "migrate", "down"); !strings.Contains(out, "down ") {
		t.Errorf("migrate down:\n%s", out)
	}
	if out := mustOutput(t, env, "migrate", "up"); !strings.Contains(out, "up ") {
		t.Errorf("migrate up:\n%s", out)
	}
}

// TestDevModeAsPrinted runs `tasksd dev` and the buf curl command it prints,
// exactly as printed, with the buf CLI the repository pins.
func TestDevModeAsPrinted(t *testing.T) {
	t.Parallel()
	bufDir, err := filepath.Abs("../../web-client/node_modules/.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(bufDir, "buf")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("buf CLI missing (make deps installs it): %v", err)
		}
		t.Skipf("buf CLI missing; run make deps: %v", err)
	}
	dataDir := t.TempDir()
	env := map[string]string{"LISTEN_ADDR": "127.0.0.1:0", "DATA_DIR": dataDir}
	dev := mustRun(t, env, "dev")
	baseURL := dev.mustWaitListening(t)
	// The reference app under `next dev` may call it from the browser;
	// other origins may not.
	for origin, want := range map[string]string{
		"http://localhost:3000":    "http://localhost:3000",
		"http://127.0.0.1:3000":    "http://127.0.0.1:3000",
		"https://evil.example.com": "",
	} {
		req, _ := http.NewRequest(http.MethodOptions, baseURL+"/tasks.v1.TaskService/ListTasks", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("dev mode, preflight from %s: Access-Control-Allow-Origin %q, want %q", origin, got, want)
		}
	}
	var command string
	timeout := time.After(time.Minute)
	for command == "" {
		select {
		case line := <-dev.lines:
			if strings.HasPrefix(strings.TrimSpace(line), "buf curl ") {
				command = strings.TrimSpace(line)
			}
		case <-timeout:
			t.Fatalf("dev mode printed no buf curl command:\n%s", dev.text())
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, devSecretFile)); err != nil {
		t.Errorf("dev secret not kept in DATA_DIR: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sh := exec.CommandContext(ctx, "bash", "-c", command)
	sh.Env = append(os.Environ(), "PATH="+bufDir+":"+os.Getenv("PATH"))
	out, err := sh.CombinedOutput()
	if err != nil {
		t.Fatalf("%s\n%v\n%s", command, err, out)
	}
	var resp struct {
		Task struct{ ID, Title string }
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Task.Title != "Buy milk" || resp.Task.ID == "" {
		t.Errorf("buf curl printed %s (%v)", out, err)
	}
}
