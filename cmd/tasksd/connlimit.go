package main

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// maxDerivedConnections bounds the connection limit worked out from the
// open-file limit, which containers often set to a million: past a few
// thousand connections, memory (tens of KiB each, BENCHMARKS.md) is the
// limit that matters, and an operator who wants more says so.
const maxDerivedConnections = 10_000

// connectionLimit is MAX_CONNECTIONS: setting when set, else three
// quarters of nofile (the process's open-file limit), at most
// maxDerivedConnections. The other quarter keeps room for what must not
// fail when connections are many: the database pool, the JWKS fetches,
// SQLite's files, the logs. nofile 0 (unknown) gives
// maxDerivedConnections.
func connectionLimit(setting int, nofile uint64) int {
	if setting > 0 {
		return setting
	}
	if nofile == 0 {
		return maxDerivedConnections
	}
	return int(max(1, min(nofile/4*3, maxDerivedConnections)))
}

// limitConnections returns ln accepting at most n connections at once.
// Past that, Accept waits for one to close, and new clients wait in the
// kernel's backlog, or time out, while the server keeps working: without
// it, running out of file descriptors fails every accept (a busy loop of
// "too many open files") and every database connection and file the
// server opens besides. That the limit was reached is logged, at most
// once a minute.
func limitConnections(ln net.Listener, n int, logger *slog.Logger) net.Listener {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{}), logger: logger}
}

type connLimiter struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	logger    *slog.Logger
	warned    atomic.Int64 // unix seconds of the last warning
}

func (l *connLimiter) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.warnFull()
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: sync.OnceFunc(func() { <-l.slots })}, nil
}

func (l *connLimiter) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

func (l *connLimiter) warnFull() {
	now := time.Now().Unix()
	if last := l.warned.Load(); now-last >= 60 && l.warned.CompareAndSwap(last, now) {
		l.logger.Warn("at MAX_CONNECTIONS: new connections wait until others close", "max", cap(l.slots))
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
