package pgtest

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bouncer is a PgBouncer in transaction pooling mode (as Neon's pooler
// runs) in front of the binary's cluster. Its pools are smaller than a
// store's connection pool, so server connections are shared between client
// connections and any session state that leaks out of a transaction shows.
type Bouncer struct {
	addr string // host:port
	proc *process
	dir  string
}

// RequireBouncer returns the binary's PgBouncer, starting it (and the
// cluster) on first use. It skips the test (fails it under CI=true) when
// either cannot be had.
func RequireBouncer(tb testing.TB) *Bouncer {
	tb.Helper()
	c := Require(tb)
	shared.bouncerOnce.Do(func() {
		shared.bouncer, shared.bouncerErr = startBouncer(c)
	})
	if shared.bouncerErr != nil {
		unavailable(tb, "PgBouncer", shared.bouncerErr)
	}
	return shared.bouncer
}

// URL returns dbURL (a database of the binary's cluster) as reached through
// the bouncer.
func (b *Bouncer) URL(tb testing.TB, dbURL string) string {
	tb.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	u.Host = b.addr
	return u.String()
}

// NewBouncedDatabase creates an empty database on the binary's cluster,
// drops it when the test ends, and returns its URL through PgBouncer.
func NewBouncedDatabase(tb testing.TB) string {
	tb.Helper()
	b := RequireBouncer(tb)
	return b.URL(tb, NewDatabase(tb))
}

func startBouncer(c *Cluster) (*Bouncer, error) {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"} {
			if _, serr := os.Stat(p); serr == nil {
				bin, err = p, nil
				break
			}
		}
		if err != nil {
			return nil, errors.New("no pgbouncer binary (apt-get install pgbouncer)")
		}
	}
	cred, err := serverCredential() // PgBouncer refuses to run as root too
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		cleanup()
		return nil, err
	}
	serverHost, serverPort, err := net.SplitHostPort(c.admin.Host)
	if err != nil {
		serverHost, serverPort = c.admin.Hostname(), "5432"
	}
	user := c.admin.User.Username()
	password, _ := c.admin.User.Password()
	users := fmt.Sprintf("%q %q\n", user, password)
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(users), 0o600); err != nil {
		cleanup()
		return nil, err
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			cleanup()
			return nil, err
		}
		ini := strings.Join([]string{
			"[databases]",
			fmt.Sprintf("* = host=%s port=%s", serverHost, serverPort),
			"[pgbouncer]",
			"listen_addr = 127.0.0.1",
			"listen_port = " + strconv.Itoa(port),
			"unix_socket_dir =",
			"auth_type = trust",
			"auth_file = " + filepath.Join(dir, "users.txt"),
			"pool_mode = transaction",
			"default_pool_size = 4",
			"max_client_conn = 1000",
			"server_tls_sslmode = prefer",
			"pidfile = " + filepath.Join(dir, "pgbouncer.pid"),
			// No ignore_startup_parameters: a client that sends session
			// parameters at startup (statement_timeout, say) fails here
			// as it would on Neon.
			"",
		}, "\n")
		if err := os.WriteFile(filepath.Join(dir, "pgbouncer.ini"), []byte(ini), 0o644); err != nil {
			cleanup()
			return nil, err
		}
		for _, f := range []string{dir, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.ini")} {
			if err := chown(f, cred); err != nil {
				cleanup()
				return nil, err
			}
		}
		proc, err := startProcess(dir, filepath.Join(dir, "pgbouncer.log"), cred, bin, filepath.Join(dir, "pgbouncer.ini"))
		if err != nil {
			cleanup()
			return nil, err
		}
		proc.sig = syscall.SIGTERM // SIGINT waits for clients to leave
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		u := *c.admin
		u.Host = addr
		if err := proc.waitReady(u.String(), 30*time.Second); err != nil {
			proc.stop()
			lastErr = err
			continue
		}
		return &Bouncer{addr: addr, proc: proc, dir: dir}, nil
	}
	cleanup()
	return nil, lastErr
}
