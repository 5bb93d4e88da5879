package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks"
	"github.com/example/tasks/auth"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// watchProtocols are the protocols a watch is served over, each with
// connect-go (a grpc-go stream is not a connect-go one).
var watchProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"connect", nil},
	{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}},
	{"grpc", []connect.ClientOption{connect.WithGRPC()}},
	{"grpc-web", []connect.ClientOption{connect.WithGRPCWeb()}},
}

// streamBearer sends a token on calls and streams.
type streamBearer string

func (b streamBearer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, req)
	}
}

func (b streamBearer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		return conn
	}
}

func (streamBearer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// dialWatcher returns a full connect-go client that calls s with token.
func dialWatcher(tb testing.TB, s *apiServer, token string, opts ...connect.ClientOption) tasksv1connect.TaskServiceClient {
	tb.Helper()
	c, _ := dialWatcherTransport(tb, s, token, opts...)
	return c
}

// dialWatcherTransport is dialWatcher, with the client's transport.
func dialWatcherTransport(tb testing.TB, s *apiServer, token string, opts ...connect.ClientOption) (tasksv1connect.TaskServiceClient, *http.Transport) {
	tb.Helper()
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	tb.Cleanup(tr.CloseIdleConnections)
	opts = append(opts, connect.WithInterceptors(streamBearer(token)))
	return tasksv1connect.NewTaskServiceClient(&http.Client{Transport: tr}, s.url, opts...), tr
}

// watching is an open watch whose messages a goroutine collects.
type watching struct {
	stream *connect.ServerStreamForClient[tasksv1.WatchTasksResponse]
	cancel context.CancelFunc
	msgs   chan *tasksv1.WatchTasksResponse
	done   chan struct{}
	err    error // once done is closed
}

// mustWatch opens a watch from cursor and collects its messages until the
// test ends.
func mustWatch(tb testing.TB, c tasksv1connect.TaskServiceClient, cursor string) *watching {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stream, err := c.WatchTasks(ctx, &tasksv1.WatchTasksRequest{Cursor: cursor})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	w := &watching{stream: stream, cancel: cancel, msgs: make(chan *tasksv1.WatchTasksResponse, 1000), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for stream.Receive() {
			w.msgs <- stream.Msg()
		}
		w.err = stream.Err()
	}()
	tb.Cleanup(func() { cancel(); <-w.done })
	return w
}

// next returns the next message, failing after a while.
func (w *watching) next(tb testing.TB) *tasksv1.WatchTasksResponse {
	tb.Helper()
	select {
	case m := <-w.msgs:
		return m
	case <-w.done:
		select {
		case m := <-w.msgs:
			return m
		default:
		}
		tb.Fatalf("the watch ended: %v", w.err)
	case <-time.After(10 * time.Second):
		tb.Fatal("no message within 10s")
	}
	return nil
}

// nextChanges returns the changes of the next n messages that carry any,
// skipping heartbeats.
func (w *watching) nextChanges(tb testing.TB, n int) []*tasksv1.TaskChange {
	tb.Helper()
	var out []*tasksv1.TaskChange
	for len(out) < n {
		m := w.next(tb)
		if len(m.GetChanges()) > 100 {
			tb.Errorf("a message of %d changes", len(m.GetChanges()))
		}
		out = append(out, m.GetChanges()...)
	}
	return out
}

// end waits for the watch to end and returns its error.
func (w *watching) end(tb testing.TB) error {
	tb.Helper()
	select {
	case <-w.done:
		return w.err
	case <-time.After(10 * time.Second):
		tb.Fatal("the watch did not end within 10s")
		return nil
	}
}

func wantCode(tb testing.TB, err error, code connect.Code, reason string) {
	tb.Helper()
	var cerr *connect.Error
	if !errors.As(err, &cerr) || cerr.Code() != code || ErrorReason(cerr) != reason {
		tb.Fatalf("got %v, want %v %s", err, code, reason)
	}
}

// TestWatchDelivers: a watch sends what ListTaskChanges would from its
// cursor, then each change as it is made, on every protocol; each
// message's cursor resumes exactly after it.
func TestWatchDelivers(t *testing.T) {
	t.Parallel()
	for _, p := range watchProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			s := mustServe(t, newMemStore(), serveOptions{})
			user := "watcher-" + p.name
			c := dialWatcher(t, s, mustToken(t, user, time.Now()), p.opts...)
			ctx := context.Background()
			before, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "before"})
			if err != nil {
				t.Fatal(err)
			}

			w := mustWatch(t, c, "")
			first := w.next(t)
			if len(first.GetChanges()) != 1 || first.GetChanges()[0].GetTask().GetId() != before.GetTask().GetId() || first.GetCursor() == "" {
				t.Fatalf("first message %v", first)
			}
			created, err := c.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "live"})
			if err != nil {
				t.Fatal(err)
			}
			if got := w.nextChanges(t, 1); got[0].GetTask().GetTitle() != "live" {
				t.Fatalf("got %v", got)
			}
			if _, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: created.GetTask().GetId(), Completed: ptrTo(true)}); err != nil {
				t.Fatal(err)
			}
			if got := w.nextChanges(t, 1); !got[0].GetTask().GetCompleted() {
				t.Fatalf("got %v", got)
			}
			if _, err := c.DeleteTask(ctx, &tasksv1.DeleteTaskRequest{Id: before.GetTask().GetId()}); err != nil {
				t.Fatal(err)
			}
			last := w.next(t)
			if got := last.GetChanges(); len(got) != 1 || got[0].GetDeletedTaskId() != before.GetTask().GetId() {
				t.Fatalf("got %v", got)
			}
			// Another user's changes never arrive.
			other := dialWatcher(t, s, mustToken(t, user+"-other", time.Now()), p.opts...)
			if _, err := other.CreateTask(ctx, &tasksv1.CreateTaskRequest{Title: "not yours"}); err != nil {
				t.Fatal(err)
			}
			// Resuming from the first message's cursor gives the rest, once.
			again := mustWatch(t, c, first.GetCursor())
			got := again.nextChanges(t, 2)
			if len(got) != 2 || got[0].GetTask().GetId() != created.GetTask().GetId() || got[1].GetDeletedTaskId() != before.GetTask().GetId() {
				t.Fatalf("resumed: %v", got)
			}
			select {
			case m := <-w.msgs:
				t.Errorf("the first watch got more: %v", m)
			default:
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestWatchCatchUpInBatches: a long catch-up comes a hundred changes a
// message.
func TestWatchCatchUpInBatches(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	s := mustServe(t, store, serveOptions{})
	for i := range 250 {
		if _, err := store.CreateTask(context.Background(), "many", tasks.NewTask{Title: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	w := mustWatch(t, dialWatcher(t, s, mustToken(t, "many", time.Now())), "")
	for _, want := range []int{100, 100, 50} {
		if got := len(w.next(t).GetChanges()); got != want {
			t.Errorf("a message of %d changes, want %d", got, want)
		}
	}
}

// TestWatchHeartbeat: after a quiet spell a watch sends its cursor, with no
// changes; it is exempt from the default call deadline.
func TestWatchHeartbeat(t *testing.T) {
	t.Parallel()
	s := mustServe(t, newMemStore(), serveOptions{callTimeout: 20 * time.Millisecond, watch: WatchConfig{Heartbeat: 50 * time.Millisecond}})
	w := mustWatch(t, dialWatcher(t, s, mustToken(t, "quiet", time.Now())), "")
	first := w.next(t)
	for range 3 {
		beat := w.next(t)
		if len(beat.GetChanges()) != 0 || beat.GetCursor() != first.GetCursor() {
			t.Fatalf("heartbeat %v, want the cursor %q", beat, first.GetCursor())
		}
	}
}

// TestWatchEnds: a watch ends Unauthenticated when its token expires,
// Unavailable after the longest a watch may stay open and when the server
// shuts down, and with the store's error when the store fails.
func TestWatchEnds(t *testing.T) {
	t.Parallel()
	t.Run("token expires", func(t *testing.T) {
		t.Parallel()
		v, err := auth.New(context.Background(), auth.Config{Secret: testSecret, ClockSkew: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		s := mustServe(t, newMemStore(), serveOptions{authenticator: v})
		token, err := auth.MintHS256(testSecret, auth.TokenRequest{Subject: "brief", TTL: 1500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		w := mustWatch(t, dialWatcher(t, s, token), "")
		w.next(t)
		err = w.end(t)
		wantCode(t, err, connect.CodeUnauthenticated, ReasonUnauthorized)
		if msg := connect.CodeOf(err); msg != connect.CodeUnauthenticated {
			t.Error(msg)
		}
		var cerr *connect.Error
		if errors.As(err, &cerr) && cerr.Message() != "token expired" {
			t.Errorf("message %q", cerr.Message())
		}
	})
	t.Run("open too long", func(t *testing.T) {
		t.Parallel()
		s := mustServe(t, newMemStore(), serveOptions{watch: WatchConfig{MaxDuration: 100 * time.Millisecond}})
		w := mustWatch(t, dialWatcher(t, s, mustToken(t, "long", time.Now())), "")
		w.next(t)
		wantCode(t, w.end(t), connect.CodeUnavailable, ReasonUnavailable)
	})
	t.Run("shutdown", func(t *testing.T) {
		t.Parallel()
		s := mustServe(t, newMemStore(), serveOptions{})
		c := dialWatcher(t, s, mustToken(t, "staying", time.Now()))
		w := mustWatch(t, c, "")
		w.next(t)
		s.watch.Close()
		wantCode(t, w.end(t), connect.CodeUnavailable, ReasonUnavailable)
		late := mustWatch(t, c, "")
		wantCode(t, late.end(t), connect.CodeUnavailable, ReasonUnavailable)
		if n := s.watch.Open(); n != 0 {
			t.Errorf("%d watches left open", n)
		}
	})
	t.Run("store fails", func(t *testing.T) {
		t.Parallel()
		store := &failingStore{memStore: newMemStore()}
		s := mustServe(t, store, serveOptions{})
		store.committed = s.watch.Committed
		c := dialWatcher(t, s, mustToken(t, "unlucky", time.Now()))
		w := mustWatch(t, c, "")
		w.next(t)
		store.failing.Store(true)
		if _, err := store.memStore.CreateTask(context.Background(), "unlucky", tasks.NewTask{Title: "wakes the watch"}); err != nil {
			t.Fatal(err)
		}
		wantCode(t, w.end(t), connect.CodeUnavailable, ReasonUnavailable)
		s.logs.mustContain(t, "database is down")
	})
	t.Run("bad cursor", func(t *testing.T) {
		t.Parallel()
		s := mustServe(t, newMemStore(), serveOptions{})
		w := mustWatch(t, dialWatcher(t, s, mustToken(t, "confused", time.Now())), "not a cursor")
		wantCode(t, w.end(t), connect.CodeInvalidArgument, ReasonInvalid)
	})
}

// TestWatchLimits: beyond the watches a user, or the server, may have
// open, a watch is ResourceExhausted; closing one frees its place. Open
// watches do not count against the in-flight limit.
func TestWatchLimits(t *testing.T) {
	t.Parallel()
	s := mustServe(t, newMemStore(), serveOptions{limits: Limits{MaxInFlight: 1}, watch: WatchConfig{MaxPerUser: 2, Max: 3}})
	alice := dialWatcher(t, s, mustToken(t, "alice", time.Now()))
	bob := dialWatcher(t, s, mustToken(t, "bob", time.Now()))
	a1, a2 := mustWatch(t, alice, ""), mustWatch(t, alice, "")
	a1.next(t)
	a2.next(t)
	wantCode(t, mustWatch(t, alice, "").end(t), connect.CodeResourceExhausted, ReasonTooManyWatches)
	b1 := mustWatch(t, bob, "")
	b1.next(t)
	wantCode(t, mustWatch(t, bob, "").end(t), connect.CodeResourceExhausted, ReasonTooManyWatches) // the server's 3
	// Three open watches, an in-flight limit of one: calls still go.
	if _, err := bob.CreateTask(context.Background(), &tasksv1.CreateTaskRequest{Title: "still served"}); err != nil {
		t.Fatal(err)
	}
	b1.cancel()
	b1.end(t)
	waitFor(t, "the watch to close", func() bool { return s.watch.Open() == 2 })
	mustWatch(t, bob, "").next(t)
}

// TestWatchSlowReader: a watch whose client stops reading holds up neither
// the writer nor another watch of the same user.
func TestWatchSlowReader(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	s := mustServe(t, store, serveOptions{})
	c := dialWatcher(t, s, mustToken(t, "reader", time.Now()))
	stalled, err := c.WatchTasks(t.Context(), &tasksv1.WatchTasksRequest{}) // never read
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	w := mustWatch(t, c, "")
	w.next(t)
	const n = 2000 // far more than fits a stream's flow-control window
	for i := range n {
		if _, err := store.CreateTask(context.Background(), "reader", tasks.NewTask{Title: fmt.Sprint("a longer title for more bytes ", i), Description: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(w.nextChanges(t, n)); got != n {
		t.Errorf("got %d changes, want %d", got, n)
	}
}

// TestWatchesLeaveNothingBehind: a thousand watches whose clients vanish
// leave no goroutine and no registration behind. Not parallel: it counts
// the process's goroutines, which other tests would start and end
// meanwhile. A thousand streams take the client four more connections
// (the server admits 250 streams on one); they are closed before the
// count, as an idle client's would be in time, so that what is counted is
// what the watches left.
func TestWatchesLeaveNothingBehind(t *testing.T) {
	s := mustServe(t, newMemStore(), serveOptions{watch: WatchConfig{MaxPerUser: 2000, Max: 2000}})
	c, tr := dialWatcherTransport(t, s, mustToken(t, "crowd", time.Now()))
	mustWatch(t, c, "").next(t) // warm the connection up; it stays open
	base := runtime.NumGoroutine()
	var ws []*watching
	for range 1000 {
		ws = append(ws, mustWatch(t, c, ""))
	}
	for _, w := range ws {
		w.next(t)
	}
	if n := s.watch.Open(); n != 1001 {
		t.Fatalf("%d watches open, want 1001", n)
	}
	for _, w := range ws {
		w.cancel()
	}
	waitFor(t, "the watches to close", func() bool { return s.watch.Open() == 1 })
	for _, w := range ws {
		<-w.done
	}
	tr.CloseIdleConnections()
	waitFor(t, "their goroutines to end", func() bool { return runtime.NumGoroutine() <= base+5 })
}

// TestWatchRecheck: a change nobody announced reaches the watch at the
// next recheck, or at once when the hub is told it missed some.
func TestWatchRecheck(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	s := mustServe(t, store, serveOptions{watch: WatchConfig{Recheck: time.Hour}})
	w := mustWatch(t, dialWatcher(t, s, mustToken(t, "unheard", time.Now())), "")
	w.next(t)
	store.mu.Lock()
	store.committed = nil // the announcement is lost
	store.mu.Unlock()
	if _, err := store.CreateTask(context.Background(), "unheard", tasks.NewTask{Title: "quietly"}); err != nil {
		t.Fatal(err)
	}
	s.watch.Missed()
	if got := w.nextChanges(t, 1); got[0].GetTask().GetTitle() != "quietly" {
		t.Errorf("got %v", got)
	}
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("waiting for %s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// failingStore is a memStore whose change reads fail on demand, as a
// database that goes away under an open watch.
type failingStore struct {
	*memStore
	failing atomic.Bool
}

func (s *failingStore) ChangePositions(ctx context.Context, userIDs []string) (map[string]int64, error) {
	if s.failing.Load() {
		return nil, tasks.WrapError(tasks.KindUnavailable, errors.New("database is down"), "the database is unavailable")
	}
	return s.memStore.ChangePositions(ctx, userIDs)
}

func (s *failingStore) ListTaskChanges(ctx context.Context, userID string, q tasks.ChangeQuery) (tasks.ChangePage, error) {
	if s.failing.Load() {
		return tasks.ChangePage{}, tasks.WrapError(tasks.KindUnavailable, errors.New("database is down"), "the database is unavailable")
	}
	return s.memStore.ListTaskChanges(ctx, userID, q)
}

// TestWatchStoreUnreachable: when the hub cannot ask the store where its
// users are, every watch looks for itself, and ends Unavailable if it
// cannot read either.
func TestWatchStoreUnreachable(t *testing.T) {
	t.Parallel()
	store := &failingStore{memStore: newMemStore()}
	s := mustServe(t, store, serveOptions{watch: WatchConfig{Recheck: time.Hour}})
	w := mustWatch(t, dialWatcher(t, s, mustToken(t, "stranded", time.Now())), "")
	w.next(t)
	store.failing.Store(true)
	s.watch.Missed()
	wantCode(t, w.end(t), connect.CodeUnavailable, ReasonUnavailable)
}

// TestWatchesOfOneUser: two watches of one user each get every change, even
// when one reads a change before it is announced.
func TestWatchesOfOneUser(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	s := mustServe(t, store, serveOptions{watch: WatchConfig{Recheck: time.Hour}})
	c := dialWatcher(t, s, mustToken(t, "two-tabs", time.Now()))
	slow := mustWatch(t, c, "")
	slow.next(t)
	// A change whose announcement is late: a new watch reads it first.
	store.mu.Lock()
	store.committed = nil
	store.mu.Unlock()
	if _, err := store.CreateTask(context.Background(), "two-tabs", tasks.NewTask{Title: "announced late"}); err != nil {
		t.Fatal(err)
	}
	fast := mustWatch(t, c, "")
	if got := fast.next(t).GetChanges(); len(got) != 1 {
		t.Fatalf("the new watch's catch-up: %v", got)
	}
	positions, err := store.ChangePositions(context.Background(), []string{"two-tabs"})
	if err != nil {
		t.Fatal(err)
	}
	s.watch.Committed(tasks.Commit{UserID: "two-tabs", Position: positions["two-tabs"]}) // the late announcement
	if got := slow.nextChanges(t, 1); got[0].GetTask().GetTitle() != "announced late" {
		t.Errorf("the first watch got %v", got)
	}
}

// TestWatchClientGoesAway: a watch whose client leaves is logged as
// cancelled, not as a failure or a deadline.
func TestWatchClientGoesAway(t *testing.T) {
	t.Parallel()
	s := mustServe(t, newMemStore(), serveOptions{})
	w := mustWatch(t, dialWatcher(t, s, mustToken(t, "leaving", time.Now())), "")
	w.next(t)
	w.cancel()
	waitFor(t, "the watch's log line", func() bool {
		return strings.Contains(s.logs.String(), "procedure=/tasks.v1.TaskService/WatchTasks")
	})
	s.logs.mustContain(t, "code=canceled")
}

// countingStore counts the change reads of a memStore.
type countingStore struct {
	*memStore
	reads atomic.Int64
}

func (s *countingStore) ListTaskChanges(ctx context.Context, userID string, q tasks.ChangeQuery) (tasks.ChangePage, error) {
	s.reads.Add(1)
	return s.memStore.ListTaskChanges(ctx, userID, q)
}

// TestWatchDirectDelivery: a change this replica commits reaches a watch
// that is one change behind without a read; an announcement without the
// change (another replica's), or one that skips ahead, makes the watch
// read, and either way each change arrives once, in order.
func TestWatchDirectDelivery(t *testing.T) {
	t.Parallel()
	store := &countingStore{memStore: newMemStore()}
	s := mustServe(t, store, serveOptions{watch: WatchConfig{Recheck: time.Hour}})
	store.committed = s.watch.Committed
	w := mustWatch(t, dialWatcher(t, s, mustToken(t, "direct", time.Now())), "")
	w.next(t)
	reads := store.reads.Load()
	ctx := context.Background()
	for i := range 20 {
		if _, err := store.memStore.CreateTask(ctx, "direct", tasks.NewTask{Title: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if got := w.nextChanges(t, 1); got[0].GetTask().GetTitle() != fmt.Sprint(i) {
			t.Fatalf("change %d: %v", i, got)
		}
	}
	if n := store.reads.Load() - reads; n != 0 {
		t.Errorf("%d reads for changes handed over", n)
	}

	// Announced by position only, as another replica's are: read.
	store.mu.Lock()
	store.committed = func(c tasks.Commit) { s.watch.Committed(tasks.Commit{UserID: c.UserID, Position: c.Position}) }
	store.mu.Unlock()
	if _, err := store.memStore.CreateTask(ctx, "direct", tasks.NewTask{Title: "remote"}); err != nil {
		t.Fatal(err)
	}
	if got := w.nextChanges(t, 1); got[0].GetTask().GetTitle() != "remote" {
		t.Fatalf("got %v", got)
	}
	if store.reads.Load() == reads {
		t.Error("a change announced without itself was not read")
	}

	// Announced out of order (the later first): read, once each.
	var held []tasks.Commit
	store.mu.Lock()
	store.committed = func(c tasks.Commit) { held = append(held, c) }
	store.mu.Unlock()
	for _, title := range []string{"first", "second"} {
		if _, err := store.memStore.CreateTask(ctx, "direct", tasks.NewTask{Title: title}); err != nil {
			t.Fatal(err)
		}
	}
	s.watch.Committed(held[1])
	s.watch.Committed(held[0])
	got := w.nextChanges(t, 2)
	if got[0].GetTask().GetTitle() != "first" || got[1].GetTask().GetTitle() != "second" {
		t.Fatalf("got %v", got)
	}
	select {
	case m := <-w.msgs:
		if len(m.GetChanges()) > 0 {
			t.Errorf("a change came twice: %v", m)
		}
	case <-time.After(200 * time.Millisecond):
	}
}
