package pgtest

import (
	"errors"
	"syscall"
	"time"
)

// Shutdown is how Restart stops the server.
type Shutdown int

const (
	// Fast rolls back and disconnects every session, then checkpoints: an
	// operator's restart.
	Fast Shutdown = iota
	// Immediate stops at once, with no checkpoint; the next start runs
	// crash recovery: the server crashing. Commits acknowledged before it
	// survive only with synchronous_commit on (a cluster's default is off:
	// pass it in Options.Settings).
	Immediate
)

// Restart stops the server of a cluster this process started, leaves it
// down for down (an outage), and starts it again on the same port and
// data; it returns once the server accepts connections again.
func (c *Cluster) Restart(how Shutdown, down time.Duration) error {
	l := c.local
	if l == nil || l.proc == nil {
		return errors.New("pgtest: only a cluster this process started can be restarted")
	}
	sig := syscall.SIGINT
	if how == Immediate {
		sig = syscall.SIGQUIT
	}
	old := l.proc
	old.sig = sig
	old.stop()
	l.proc = nil
	time.Sleep(down)
	proc, err := old.again()
	if err != nil {
		return err
	}
	l.proc = proc
	return proc.waitReady(c.admin.String(), 60*time.Second)
}
