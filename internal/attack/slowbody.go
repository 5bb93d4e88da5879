package attack

import (
	"context"
	"net"
	"sync/atomic"
	"time"
)

// Target is the server an attack goes to.
type Target struct {
	Addr  string // host:port
	Token string // bearer token; empty for none (the health service needs none)
}

// Trickle is how a slow client sends a request: the headers at once, then
// one body byte every Interval, never finishing.
type Trickle struct {
	// Path of the request; default CreateTask.
	Path string
	// Interval between body bytes; default one second.
	Interval time.Duration
	// Reconnect, when set, replaces every request the server cuts off with
	// a new one, so the attack keeps its full size until ctx ends.
	Reconnect bool
}

const createTaskPath = "/tasks.v1.TaskService/CreateTask"

// HealthCheckPath is the unauthenticated unary call of the gRPC health
// service.
const HealthCheckPath = "/grpc.health.v1.Health/Check"

func (t Trickle) withDefaults() Trickle {
	if t.Path == "" {
		t.Path = createTaskPath
	}
	if t.Interval <= 0 {
		t.Interval = time.Second
	}
	return t
}

// bodyLength is what a trickling request declares, where it declares a
// length: well under any request limit, so the server has no reason to
// refuse it before reading, and hours long at one byte a second.
const bodyLength = 10_000

// Progress counts a slow-client attack's requests as it runs.
type Progress struct {
	started atomic.Int64
	cut     atomic.Int64
}

// Started is how many requests the attack has sent the headers of.
func (p *Progress) Started() int64 { return p.started.Load() }

// Cut is how many of them the server ended (answered, reset, or closed the
// connection of) before their body was complete, which it never is.
func (p *Progress) Cut() int64 { return p.cut.Load() }

// Open is how many are still trickling.
func (p *Progress) Open() int64 { return p.Started() - p.Cut() }

// tick waits one interval; false when ctx ended or done was closed first.
func tick(ctx context.Context, done <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-done:
		return false
	case <-t.C:
		return true
	}
}

// retryPause is how long a client waits before dialing again after a
// failed dial.
const retryPause = 100 * time.Millisecond

// dial connects to addr; on failure it waits a moment (a server at its
// connection limit leaves new connections waiting in its backlog, one
// refusing them resets them: either way there is nothing to send) and
// returns nil, with retry false once ctx has ended.
func dial(ctx context.Context, addr string) (conn net.Conn, retry bool) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		tick(ctx, nil, retryPause)
		return nil, ctx.Err() == nil
	}
	return conn, true
}

// waitCut waits until the server closes (closed) or ctx ends; true, counted
// in p, when the server closed first.
func waitCut(ctx context.Context, closed <-chan struct{}, p *Progress) bool {
	select {
	case <-closed:
		p.cut.Add(1)
		return true
	case <-ctx.Done():
		return false
	}
}
