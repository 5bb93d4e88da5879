package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// Watches are spread over users round-robin: watch i watches user
// i mod users, as that user's watch number (slot) i / users. With more
// watches than users each user has several, as a person with several tabs
// and devices does.
func watchSlot(i, users int) (user, slot int) { return i % users, i / users }

// watchesPer returns how many of n watches spread over users watch user u.
func watchesPer(n, users int) func(u int) int {
	return func(u int) int {
		if u < 0 || u >= users {
			return 0
		}
		k := n / users
		if u < n%users {
			k++
		}
		return k
	}
}

// connectionsFor is how many HTTP/2 connections carry n streams at most
// perConn each. The server admits 250 concurrent streams per connection
// (Go's default; tasksd does not change it), and a stream beyond that
// waits on the client, so perConn stays below it.
func connectionsFor(n, perConn int) int { return max(1, (n+perConn-1)/perConn) }

// watchSet is a number of open WatchTasks streams, each in its own
// goroutine, reporting what they receive to the deliveries tracker of the
// run in progress, if any.
type watchSet struct {
	pool    *pool
	conns   int
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	tracker atomic.Pointer[deliveries]

	messages, heartbeats atomic.Int64

	mu         sync.Mutex
	openErrors map[string]int64 // streams that failed before their first message
	endErrors  map[string]int64 // streams that ended later, before closeAll
}

// openWatches opens n watches of users (see watchSlot), from cursors[u]
// (so that a watch starts with nothing to catch up on), over
// connectionsFor(n, perConn) connections, with at most parallel watches
// between the request and the first message at a time (a crowd of clients
// arriving, not all at once). It returns when every watch has had its
// first message or failed.
func openWatches(ctx context.Context, baseURL, protocol string, users []*user, cursors []string, n, perConn, parallel int) (*watchSet, error) {
	conns := connectionsFor(n, perConn)
	p, err := newPool(baseURL, protocol, conns, false)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	ws := &watchSet{pool: p, conns: conns, cancel: cancel, openErrors: map[string]int64{}, endErrors: map[string]int64{}}
	sem := make(chan struct{}, parallel)
	var opened sync.WaitGroup
	opened.Add(n)
	for i := range n {
		u, slot := watchSlot(i, len(users))
		cl := p.client(i % conns)
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			opened.Add(i - n) // the watches never started
			ws.closeAll()
			return nil, ctx.Err()
		}
		ws.wg.Go(func() {
			ws.watch(ctx, cl, users[u], cursors[u], slot, func() { opened.Done(); <-sem })
		})
	}
	opened.Wait()
	return ws, nil
}

// watch runs one stream until ctx ends or the server ends it; first is
// called once, at the first message or when the stream fails before it.
func (ws *watchSet) watch(ctx context.Context, cl tasksv1connect.TaskServiceClient, u *user, cursor string, slot int, first func()) {
	var once sync.Once
	defer once.Do(first)
	stream, err := cl.WatchTasks(withToken(ctx, u.token), &tasksv1.WatchTasksRequest{Cursor: cursor})
	if err != nil {
		ws.failed(ctx, ws.openErrors, err)
		return
	}
	defer stream.Close()
	got := false
	for stream.Receive() {
		at := time.Now()
		msg := stream.Msg()
		ws.messages.Add(1)
		if got && len(msg.GetChanges()) == 0 {
			ws.heartbeats.Add(1)
		}
		tr := ws.tracker.Load()
		for _, c := range msg.GetChanges() {
			if t := c.GetTask(); t != nil && tr != nil {
				tr.delivered(slot, deliveryKey{t.GetId(), t.GetEtag()}, at)
			}
		}
		if !got {
			got = true
			once.Do(first)
		}
	}
	if got {
		ws.failed(ctx, ws.endErrors, stream.Err())
	} else {
		ws.failed(ctx, ws.openErrors, stream.Err())
	}
}

// track reports what the watches receive from now on to tr (nil: to
// nobody).
func (ws *watchSet) track(tr *deliveries) { ws.tracker.Store(tr) }

// failed counts a stream's error, unless closeAll caused it.
func (ws *watchSet) failed(ctx context.Context, into map[string]int64, err error) {
	if ctx.Err() != nil {
		return
	}
	code := "ended"
	if err != nil {
		code = errorCode(err)
	}
	ws.mu.Lock()
	into[code]++
	ws.mu.Unlock()
}

// errors returns the streams that failed to open and that ended early.
func (ws *watchSet) errors() (open, ended map[string]int64) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	clone := func(m map[string]int64) map[string]int64 {
		if len(m) == 0 {
			return nil
		}
		out := make(map[string]int64, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return clone(ws.openErrors), clone(ws.endErrors)
}

// closeAll cancels every stream, waits for their goroutines and closes
// the connections.
func (ws *watchSet) closeAll() {
	ws.cancel()
	ws.wg.Wait()
	ws.pool.close()
}

// catchUp moves each user's cursor to the present with ListTaskChanges
// (the first time from an empty cursor: a full sync), so that watches
// opened from it have nothing to send first but the empty message that
// says where they stand.
func catchUp(ctx context.Context, p *pool, users []*user, cursors []string, workers int) error {
	g := newGroup(ctx)
	next := make(chan int)
	for i := range workers {
		cl := p.client(i)
		g.do(func(ctx context.Context) error {
			for u := range next {
				c, err := latestCursor(ctx, cl, users[u], cursors[u])
				if err != nil {
					return fmt.Errorf("catching up %s: %w", users[u].id, err)
				}
				cursors[u] = c
			}
			return nil
		})
	}
	g.do(func(ctx context.Context) error {
		defer close(next)
		for u := range users {
			select {
			case next <- u:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	return g.wait()
}

// latestCursor pages through u's changes after cursor and returns the
// cursor after the last; an expired cursor starts over from empty.
func latestCursor(ctx context.Context, cl tasksv1connect.TaskServiceClient, u *user, cursor string) (string, error) {
	ctx = withToken(ctx, u.token)
	for {
		resp, err := cl.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{Cursor: cursor, PageSize: 1000})
		if connect.CodeOf(err) == connect.CodeFailedPrecondition && cursor != "" {
			cursor = ""
			continue
		}
		if err != nil {
			return "", err
		}
		cursor = resp.GetNextCursor()
		if !resp.GetHasMore() {
			return cursor, nil
		}
	}
}
