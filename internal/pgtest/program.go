package pgtest

import (
	"net/url"
	"path/filepath"
)

// Options adjust the cluster Start makes.
type Options struct {
	// Settings ("name=value") are added to the server's own.
	Settings []string
	// LogFile is where the server logs (appended to); empty means a file in
	// the cluster's directory, removed with it.
	LogFile string
}

// Start starts a cluster for a program rather than a test binary (the
// pgtest command, which the TypeScript harnesses and `make bench` run): a
// fresh initdb on a free loopback port, as the tests get. Stop it with
// Stop; it also dies with the calling process.
func Start(o Options) (*Cluster, error) {
	l, u, err := startLocal(o)
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
