package storage

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/tasks"
	"github.com/example/tasks/internal/pgtest"
)

// heard records what a CommitListener is told.
type heard struct {
	mu        sync.Mutex
	positions map[string]int64
	changes   []tasks.Commit // this process's, with their changes
	missed    int
	changed   chan struct{} // a receive after each call
}

func newHeard() *heard {
	return &heard{positions: map[string]int64{}, changed: make(chan struct{}, 1000)}
}

func (h *heard) Committed(c tasks.Commit) {
	h.mu.Lock()
	h.positions[c.UserID] = max(h.positions[c.UserID], c.Position)
	if c.Change != nil {
		h.changes = append(h.changes, c)
	}
	h.mu.Unlock()
	h.changed <- struct{}{}
}

func (h *heard) Missed() {
	h.mu.Lock()
	h.missed++
	h.mu.Unlock()
	h.changed <- struct{}{}
}

// waitFor waits until ok holds, failing after timeout.
func (h *heard) waitFor(tb testing.TB, what string, timeout time.Duration, ok func(h *heard) bool) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		done := ok(h)
		h.mu.Unlock()
		if done {
			return
		}
		select {
		case <-h.changed:
		case <-deadline:
			tb.Fatalf("%s: not within %v (positions %v, missed %d)", what, timeout, h.positions, h.missed)
		}
	}
}

// mustListen runs s.Listen with a new recorder until the test ends.
func mustListen(tb testing.TB, s *Store) *heard {
	tb.Helper()
	h := newHeard()
	tb.Cleanup(s.Listen(h))
	return h
}

// TestListenHearsOwnCommits: every backend announces this process's
// commits at once.
func TestListenHearsOwnCommits(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := mustMigratedStore(t, b)
			h := mustListen(t, s)
			user := newUser()
			task := mustCreate(t, s, user, tasks.NewTask{Title: "t"})
			h.waitFor(t, "the create", 5*time.Second, func(h *heard) bool { return h.positions[user] >= 1 })
			mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Completed: ptr(true)})
			h.waitFor(t, "the update", 5*time.Second, func(h *heard) bool { return h.positions[user] >= 2 })
			if err := s.DeleteTask(testContext(t), user, task.ID, ""); err != nil {
				t.Fatal(err)
			}
			h.waitFor(t, "the delete", 5*time.Second, func(h *heard) bool { return h.positions[user] >= 3 })
			// Each with its change and a cursor just after it.
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.changes) != 3 {
				t.Fatalf("%d commits with changes, want 3", len(h.changes))
			}
			// After each cursor comes what followed it: the task's latest
			// state, its deletion, until the last.
			for i, c := range h.changes {
				page := mustChanges(t, s, user, c.Cursor, 0)
				if c.Position != int64(i+1) || page.Position != 3 || len(page.Changes) != []int{1, 1, 0}[i] {
					t.Errorf("commit %d: %+v; the changes after its cursor: %+v", i, c, page)
				}
			}
			if c := h.changes[2]; c.Change.DeletedID != task.ID || c.Change.Task != nil {
				t.Errorf("the delete's change: %+v", c.Change)
			}
			if c := h.changes[1]; c.Change.Task == nil || !c.Change.Task.Completed {
				t.Errorf("the update's change: %+v", c.Change)
			}
		})
	}
}

// TestListenHearsOtherReplicas: on PostgreSQL a store hears the commits of
// another store on the same database (another replica), and keeps hearing
// them after its listening connection is killed, having said it may have
// missed some.
func TestListenHearsOtherReplicas(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	var logs bytes.Buffer
	listening := mustOpen(t, Config{URL: url, Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))})
	if _, err := listening.MigrateUp(testContext(t)); err != nil {
		t.Fatal(err)
	}
	writing := mustOpen(t, Config{URL: url})
	mustListen(t, writing) // a replica announces its commits while it listens
	h := mustListen(t, listening)
	user := newUser()
	mustHearCreate(t, h, writing, user)

	// Kill the listening connection: the listener reconnects, says what it
	// may have missed, and hears again.
	h.mu.Lock()
	missed := h.missed
	h.mu.Unlock()
	const listeners = "FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database()"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		err := writing.writer.QueryRowContext(testContext(t), "SELECT count(*) "+listeners).Scan(&n)
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d listening connections, want both replicas' (%v)", n, err)
		}
	}
	var killed int
	if err := writing.writer.QueryRowContext(testContext(t),
		"SELECT count(pg_terminate_backend(pid)) "+listeners).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("terminated %d listening connections: %v", killed, err)
	}
	h.waitFor(t, "the lost connection", 10*time.Second, func(h *heard) bool { return h.missed > missed })
	mustHearCreate(t, h, writing, user)
}

// mustHearCreate creates tasks of user through s until h hears of one: the
// listener may not be listening yet (or again), and what it misses
// meanwhile it only reports as Missed.
func mustHearCreate(tb testing.TB, h *heard, s *Store, user string) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		mustCreate(tb, s, user, tasks.NewTask{Title: "heard?"})
		want := position(tb, s, user)
		timeout := time.After(time.Second)
	wait:
		for {
			h.mu.Lock()
			got := h.positions[user]
			h.mu.Unlock()
			if got >= want {
				return
			}
			select {
			case <-h.changed:
			case <-timeout:
				break wait
			}
		}
	}
	tb.Fatalf("no create of %s was heard", user)
}

// TestListenThroughPooler: through PgBouncer in transaction mode LISTEN
// hears nothing; the store says so once and asks for polling every
// PollInterval. With ListenURL on the database itself, it hears.
func TestListenThroughPooler(t *testing.T) {
	t.Parallel()
	direct := pgtest.NewDatabase(t)
	pooled := pgtest.RequireBouncer(t).URL(t, direct)

	var logs bytes.Buffer
	deaf := mustOpen(t, Config{URL: pooled, SimpleProtocol: true, PollInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))})
	if _, err := deaf.MigrateUp(testContext(t)); err != nil {
		t.Fatal(err)
	}
	h := mustListen(t, deaf)
	h.waitFor(t, "polling", 15*time.Second, func(h *heard) bool { return h.missed >= 10 })
	if n := strings.Count(logs.String(), "cannot hear"); n != 1 {
		t.Errorf("logged %d times, want once:\n%s", n, logs.String())
	}

	hearing := mustOpen(t, Config{URL: pooled, SimpleProtocol: true, ListenURL: direct})
	h2 := mustListen(t, hearing)
	mustHearCreate(t, h2, deaf, newUser()) // written through the pooler
}

// syncWriter serializes writes to w: the logger is used from the
// listener's goroutine while the test reads.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
