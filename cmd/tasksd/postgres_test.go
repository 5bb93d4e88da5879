package main

import (
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/uptrace/bun/driver/pgdriver"
	"google.golang.org/protobuf/proto"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestHealthFollowsDatabase: the health service and /readyz report
// NOT_SERVING while the database does not answer, calls fail Unavailable,
// and all of it recovers when the database is back.
func TestHealthFollowsDatabase(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewDatabase(t)
	proxy := mustStartProxy(t, dbURL)
	s := mustStartServer(t, map[string]string{"DATABASE_URL": proxy.url, "DB_STATEMENT_TIMEOUT": "1s"})
	c := dialConnect(t, s, "health-user")
	health := grpchealth.NewClient(h2cClient(), s.baseURL, connect.WithGRPC())
	mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "before the outage"})
	mustWaitHealth(t, health, grpchealth.StatusServing)

	proxy.setDown(true)
	mustWaitHealth(t, health, grpchealth.StatusNotServing)
	if code := mustGetStatus(t, s.baseURL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the outage: %d", code)
	}
	if code := mustGetStatus(t, s.baseURL+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz during the outage: %d (the process is up)", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{})
	mustFail(t, err, connect.CodeUnavailable, "SERVICE_UNAVAILABLE")

	proxy.setDown(false)
	mustWaitHealth(t, health, grpchealth.StatusServing)
	if code := mustGetStatus(t, s.baseURL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the outage: %d", code)
	}
	mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "after the outage"})
}

// TestClientDeadlineCancelsQuery: a call whose deadline passes while its
// query waits on the database fails DeadlineExceeded, and the database
// stops working on it: nothing is left waiting and nothing is applied
// later.
func TestClientDeadlineCancelsQuery(t *testing.T) {
	t.Parallel()
	// A statement timeout far longer than the wait below, so only the
	// client's deadline can end the query in time.
	l := mustLockedTask(t, map[string]string{"DB_STATEMENT_TIMEOUT": "2m"}, "deadline-user")
	c, task, db := l.c, l.task, l.db

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{Id: task.GetId(), Title: proto.String("too late")})
	if code := connect.CodeOf(err); code != connect.CodeDeadlineExceeded {
		t.Fatalf("got %v (%v), want deadline_exceeded", code, err)
	}
	// The server cancelled its statement: no backend is still waiting for
	// the row lock.
	mustWaitFor(t, "the update's query to be cancelled", func() bool { return lockWaiters(t, db) == 0 })
	l.release()
	if got := mustGet(t, c, task.GetId()); got.GetTitle() != "locked" {
		t.Errorf("the timed-out update was applied: %q", got.GetTitle())
	}
}

// TestShutdownWithCallInFlight: SIGTERM (here, cancelling serve's context)
// lets a call that is already running finish, then stops.
func TestShutdownWithCallInFlight(t *testing.T) {
	t.Parallel()
	l := mustLockedTask(t, nil, "shutdown-user")
	s, c, task, db, release := l.s, l.c, l.task, l.db, l.release

	type result struct {
		resp *tasksv1.UpdateTaskResponse
		err  error
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := c.UpdateTask(context.Background(), &tasksv1.UpdateTaskRequest{Id: task.GetId(), Completed: proto.Bool(true)})
		inFlight <- result{resp, err}
	}()
	mustWaitFor(t, "the update to wait for the row lock", func() bool { return lockWaiters(t, db) == 1 })

	stopped := make(chan error, 1)
	go func() { stopped <- s.shutdown() }()
	// New connections are refused once shutdown has begun.
	mustWaitFor(t, "the listener to close", func() bool {
		conn, err := net.DialTimeout("tcp", s.hostPort(), time.Second)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	select {
	case err := <-stopped:
		t.Fatalf("server stopped with a call in flight: %v", err)
	default:
	}

	release()
	r := <-inFlight
	if r.err != nil || !r.resp.GetTask().GetCompleted() {
		t.Fatalf("in-flight call: %v, %v", r.resp, r.err)
	}
	if err := <-stopped; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// dialConnect dials the server with Connect for user.
func dialConnect(tb testing.TB, s *testServer, user string) taskAPI {
	return connectDialer()(tb, s, s.mustToken(tb, user))
}

func mustGetStatus(tb testing.TB, url string) int {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// mustWaitFor polls cond until it holds, failing the test if it does not
// within a generous bound (a hung server, not a slow one).
func mustWaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustWaitHealth(tb testing.TB, health *grpchealth.Client, want grpchealth.Status) {
	tb.Helper()
	mustWaitFor(tb, "health "+want.String(), func() bool {
		resp, err := health.Check(context.Background(), &grpchealth.CheckRequest{Service: "tasks.v1.TaskService"})
		return err == nil && resp.Status == want
	})
}

func mustOpenDB(tb testing.TB, dbURL string) *sql.DB {
	tb.Helper()
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dbURL)))
	tb.Cleanup(func() { db.Close() })
	return db
}

// lockedTask is a server on PostgreSQL with one task whose row another
// transaction holds locked, so the server's next write to it waits.
type lockedTask struct {
	s       *testServer
	c       taskAPI // the task owner's Connect client
	task    *tasksv1.Task
	db      *sql.DB // a connection of the test's own
	release func()  // ends the lock; safe to call twice
}

// mustLockedTask starts a server with env (and a fresh database), creates a
// task as user and locks its row until the test ends or release is called.
func mustLockedTask(tb testing.TB, env map[string]string, user string) lockedTask {
	tb.Helper()
	dbURL := pgtest.NewDatabase(tb)
	vars := map[string]string{"DATABASE_URL": dbURL}
	for k, v := range env {
		vars[k] = v
	}
	s := mustStartServer(tb, vars)
	c := dialConnect(tb, s, user)
	task := mustCreate(tb, c, &tasksv1.CreateTaskRequest{Title: "locked"})
	db := mustOpenDB(tb, dbURL)
	release := mustLockTask(tb, db, task.GetId())
	tb.Cleanup(release)
	return lockedTask{s: s, c: c, task: task, db: db, release: release}
}

// mustLockTask holds a row lock on the task in a transaction of its own
// until release is called, so the server's next write to it waits.
func mustLockTask(tb testing.TB, db *sql.DB, id string) (release func()) {
	tb.Helper()
	tx, err := db.Begin()
	if err != nil {
		tb.Fatal(err)
	}
	// This session is the server's role, whose defaults tasksd set: the
	// lock must outlast an idle_in_transaction_session_timeout of a few
	// seconds on a slow machine.
	if _, err := tx.Exec("SET LOCAL idle_in_transaction_session_timeout = 0"); err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.Exec("SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", id); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	return func() { once.Do(func() { tx.Rollback() }) }
}

// lockWaiters counts the other backends of this database waiting for a
// lock.
func lockWaiters(tb testing.TB, db *sql.DB) int {
	tb.Helper()
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND wait_event_type = 'Lock'`).Scan(&n)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// proxy forwards TCP connections to a database and can be taken down (open
// connections cut, new ones refused) and brought back, to play an outage.
type proxy struct {
	url    string
	target string
	ln     net.Listener
	down   atomic.Bool
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

func mustStartProxy(tb testing.TB, dbURL string) *proxy {
	tb.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{target: u.Host, ln: ln, conns: map[net.Conn]struct{}{}}
	u.Host = ln.Addr().String()
	p.url = u.String()
	go p.serve()
	tb.Cleanup(func() {
		ln.Close()
		p.setDown(true)
	})
	return p
}

func (p *proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client, server)
		go p.pipe(client, server)
		go p.pipe(server, client)
	}
}

func (p *proxy) track(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src) // ends when either side is closed or cut
	dst.Close()
	src.Close()
}

// setDown cuts every open connection and refuses new ones (true), or
// accepts them again (false).
func (p *proxy) setDown(down bool) {
	p.down.Store(down)
	if !down {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// TestDefaultCallDeadline: a call whose client sets no deadline gets
// CALL_TIMEOUT, while a long-lived stream on the same server outlives it.
func TestDefaultCallDeadline(t *testing.T) {
	t.Parallel()
	l := mustLockedTask(t, map[string]string{"CALL_TIMEOUT": "300ms", "DB_STATEMENT_TIMEOUT": "2m"}, "impatient-user")
	s, c, task, db := l.s, l.c, l.task, l.db

	stream := grpcreflect.NewClient(h2cClient(), s.baseURL, connect.WithGRPC()).NewStream(context.Background())
	defer stream.Close()
	if _, err := stream.ListServices(); err != nil {
		t.Fatal(err)
	}
	_, err := c.UpdateTask(context.Background(), &tasksv1.UpdateTaskRequest{Id: task.GetId(), Title: proto.String("never")})
	if code := connect.CodeOf(err); code != connect.CodeDeadlineExceeded {
		t.Fatalf("got %v (%v), want deadline_exceeded", code, err)
	}
	mustWaitFor(t, "the update's query to be cancelled", func() bool { return lockWaiters(t, db) == 0 })

	// The reflection stream opened before the call is still usable after it.
	if _, err := stream.ListServices(); err != nil {
		t.Errorf("stream cut by the call deadline: %v", err)
	}
}

// TestInFlightLimit: past MAX_IN_FLIGHT calls at once, more are answered
// Unavailable at once, and served again when a slot frees.
func TestInFlightLimit(t *testing.T) {
	t.Parallel()
	l := mustLockedTask(t, map[string]string{"MAX_IN_FLIGHT": "1"}, "busy-user")
	s, c, task, db, release := l.s, l.c, l.task, l.db, l.release
	held := make(chan error, 1)
	go func() {
		_, err := c.UpdateTask(context.Background(), &tasksv1.UpdateTaskRequest{Id: task.GetId(), Title: proto.String("slow")})
		held <- err
	}()
	mustWaitFor(t, "the update to hold the only slot", func() bool { return lockWaiters(t, db) == 1 })

	for _, p := range protocols {
		_, err := p.dial(t, s, s.mustToken(t, "busy-user")).GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: task.GetId()})
		if got := inspect(t, err); got.code != connect.CodeUnavailable || got.reason != "SERVICE_UNAVAILABLE" {
			t.Errorf("%s while full: %v/%s %q", p.name, got.code, got.reason, got.message)
		}
	}
	// Health answers whatever the load. (Polled: the test servers ping
	// their database every 100 ms with a 100 ms timeout, which a busy
	// machine can miss now and then.)
	mustWaitFor(t, "/readyz to answer 200 while the slots are full", func() bool {
		return mustGetStatus(t, s.baseURL+"/readyz") == http.StatusOK
	})

	release()
	if err := <-held; err != nil {
		t.Fatalf("the held call: %v", err)
	}
	if got := mustGet(t, c, task.GetId()); got.GetTitle() != "slow" {
		t.Errorf("after the slot freed: %q", got.GetTitle())
	}
}
