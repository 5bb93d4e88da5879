package pgtest

import (
	"net/url"
	"path/filepath"
)

// Start starts a cluster for a program rather than a test binary (the
// pgtest command, which the TypeScript harnesses and `make bench` run): a
// fresh initdb on a free loopback port, as the tests get, with settings
// ("name=value") added to the server's. Stop it with Stop; it also dies
// with the calling process.
func Start(settings ...string) (*Cluster, error) {
	l, u, err := startLocal(settings)
	if err != nil {
		return nil, err
	}
	c, err := connect(u, l)
	if err != nil {
		l.stop()
		return nil, err
	}
	return c, nil
}

// URL returns a superuser's URL of the cluster's maintenance database
// (postgres); other databases are reached by changing its path.
func (c *Cluster) URL() string {
	u := url.URL(*c.admin)
	return u.String()
}

// PID returns the postmaster's process id, or 0 for a cluster this
// process did not start.
func (c *Cluster) PID() int {
	if c.local == nil || c.local.proc == nil {
		return 0
	}
	if pid, err := readPID(filepath.Join(c.local.dir, "data", "postmaster.pid")); err == nil {
		return pid
	}
	return c.local.proc.cmd.Process.Pid
}

// Stop closes the admin pool, stops the server and removes its directory.
func (c *Cluster) Stop() {
	_ = c.db.Close()
	if c.local != nil {
		c.local.stop()
	}
}
