package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// binDir holds the PostgreSQL server binaries; PGTEST_BINDIR overrides it.
func binDir() string {
	if d := os.Getenv("PGTEST_BINDIR"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}

// dirPrefix names the temporary directories of local clusters, so a later
// run can find and remove those a killed run left behind.
const dirPrefix = "pgtest-"

// local is a cluster this binary created and runs.
type local struct {
	dir  string
	proc *process
}

// startLocal creates a cluster in a temporary directory and starts it on a
// free loopback port, as o adjusts it. PostgreSQL refuses to run as root,
// so as root the server runs as the postgres OS user.
func startLocal(o Options) (*local, *url.URL, error) {
	for _, bin := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(binDir(), bin)); err != nil {
			return nil, nil, fmt.Errorf("no %s in %s (set PGTEST_BINDIR)", bin, binDir())
		}
	}
	removeStale()
	cred, err := serverCredential()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, nil, err
	}
	l := &local{dir: dir}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		l.stop()
		return nil, nil, err
	}
	if err := chown(dir, cred); err != nil {
		l.stop()
		return nil, nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(binDir(), "initdb"), "-D", data, "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		l.stop()
		return nil, nil, fmt.Errorf("initdb: %v: %s", err, lastLines(out, 10))
	}
	var lastErr error
	for range 3 { // a free port can be taken between choosing and binding it
		port, err := freePort()
		if err != nil {
			l.stop()
			return nil, nil, err
		}
		args := []string{
			"-D", data, "-p", strconv.Itoa(port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1",
			"-c", "max_connections=300",
			"-c", "shared_buffers=128MB",
			// A throwaway cluster needs no durability.
			"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		}
		for _, setting := range o.Settings {
			args = append(args, "-c", setting)
		}
		logPath := o.LogFile
		if logPath == "" {
			logPath = filepath.Join(dir, "postgres.log")
		}
		proc, err := startProcess(dir, logPath, cred, filepath.Join(binDir(), "postgres"), args...)
		if err != nil {
			l.stop()
			return nil, nil, err
		}
		u := &url.URL{
			Scheme:   "postgres",
			User:     url.User("postgres"),
			Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			Path:     "/postgres",
			RawQuery: "sslmode=disable",
		}
		if err := proc.waitReady(u.String(), 60*time.Second); err != nil {
			proc.stop()
			lastErr = err
			continue
		}
		l.proc = proc
		return l, u, nil
	}
	l.stop()
	return nil, nil, lastErr
}

func (l *local) stop() {
	if l.proc != nil {
		l.proc.stop()
	}
	_ = os.RemoveAll(l.dir)
}

// serverCredential returns the credential to run the server with: nil
// (this process's) unless this process is root, then the postgres user's.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres OS user: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func chown(dir string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return os.Chown(dir, int(cred.Uid), int(cred.Gid))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeStale removes the directories of clusters whose test binary is gone
// (killed before it could clean up), killing their server if it still runs.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		owner, err := readPID(filepath.Join(dir, "owner.pid"))
		if err != nil || alive(owner) {
			continue
		}
		for _, pidfile := range []string{filepath.Join(dir, "data", "postmaster.pid"), filepath.Join(dir, "pgbouncer.pid")} {
			if pid, err := readPID(pidfile); err == nil && alive(pid) && isOurs(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		_ = os.RemoveAll(dir)
	}
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	return strconv.Atoi(strings.TrimSpace(first))
}

func alive(pid int) bool {
	return pid > 0 && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// isOurs reports whether pid is a postgres or pgbouncer process, so a
// recycled pid is never killed.
func isOurs(pid int) bool {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	name := strings.TrimSpace(string(comm))
	return err == nil && (name == "postgres" || name == "pgbouncer")
}

// process is a server this binary runs. It is started with a parent-death
// signal, so it dies with the test binary even when that is killed.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	sig  syscall.Signal // asks for a fast shutdown
}

func startProcess(dir, logPath string, cred *syscall.Credential, name string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", filepath.Base(name), err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{}), sig: syscall.SIGINT}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// again starts p's command anew, as it was started (p has ended).
func (p *process) again() (*process, error) {
	return startProcess(p.cmd.Dir, p.log, p.cmd.SysProcAttr.Credential, p.cmd.Path, p.cmd.Args[1:]...)
}

// waitReady waits until dsn answers a ping, or fails early when the
// process exits.
func (p *process) waitReady(dsn string, timeout time.Duration) error {
	db := openDB(dsn)
	defer db.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %s", filepath.Base(p.cmd.Path), p.logTail())
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %v: %s", filepath.Base(p.cmd.Path), timeout, err, p.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) logTail() string {
	b, _ := os.ReadFile(p.log)
	return lastLines(b, 10)
}

// stop asks the process to shut down and kills it if it has not within ten
// seconds.
func (p *process) stop() {
	_ = p.cmd.Process.Signal(p.sig)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
