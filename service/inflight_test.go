package service

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// heldStore holds the calls of the users in hold until released, and
// answers everyone else's at once.
type heldStore struct {
	faultyStore
	entered chan string // the user of each call held
	release chan struct{}
}

func newHeldStore(hold ...string) *heldStore {
	s := &heldStore{entered: make(chan string, 16), release: make(chan struct{})}
	s.fail = func(ctx context.Context) error {
		user, _ := tasks.UserFrom(ctx)
		for _, h := range hold {
			if user.ID != h {
				continue
			}
			s.entered <- user.ID
			select {
			case <-s.release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	return s
}

// TestPerUserShare: a user with MaxInFlightPerUser calls in flight is
// refused ResourceExhausted TOO_MANY_REQUESTS, while other users are
// served; Unavailable comes only when every slot is taken.
func TestPerUserShare(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		store := newHeldStore("alice", "bob")
		srv := mustServe(t, store, serveOptions{limits: Limits{MaxInFlight: 4, MaxInFlightPerUser: 2}})
		releaseAll := sync.OnceFunc(func() { close(store.release) })
		t.Cleanup(releaseAll)
		list := func(c taskClient) error {
			_, err := c.ListTasks(context.Background(), &tasksv1.ListTasksRequest{})
			return err
		}
		alice, bob, carol := p.dial(t, srv, "alice"), p.dial(t, srv, "bob"), p.dial(t, srv, "carol")

		held := make(chan error, 4)
		hold := func(c taskClient, n int) {
			for range n {
				go func() { held <- list(c) }()
			}
			for range n {
				select {
				case <-store.entered:
				case err := <-held:
					t.Fatalf("a call ended before the store held it: %v", err)
				}
			}
		}
		hold(alice, 2)
		cerr := mustFailWith(t, list(alice), connect.CodeResourceExhausted, ReasonTooManyRequests)
		if want := "more than 2 calls at once; retry when some have finished"; cerr.Message() != want {
			t.Errorf("message %q, want %q", cerr.Message(), want)
		}
		if err := list(carol); err != nil {
			t.Fatalf("carol, with alice at her share: %v", err)
		}
		hold(bob, 2)
		mustFailWith(t, list(carol), connect.CodeUnavailable, ReasonUnavailable)

		releaseAll()
		for range 4 {
			if err := <-held; err != nil {
				t.Errorf("a held call: %v", err)
			}
		}
		// The share is given back when calls end (in the handler, a moment
		// after the client has its answer).
		for list(alice) != nil {
			time.Sleep(time.Millisecond)
		}
	})
}

// fakeClock returns a clock that moves only when advance is called.
func fakeClock() (now func() time.Time, advance func(time.Duration)) {
	var ns atomic.Int64
	ns.Store(time.Unix(1_800_000_000, 0).UnixNano())
	return func() time.Time { return time.Unix(0, ns.Load()) },
		func(d time.Duration) { ns.Add(int64(d)) }
}

// TestRatePerUser: a user may start RatePerUser calls a second, in bursts
// of a second's worth, watches included; past that its calls are refused
// TOO_MANY_REQUESTS, and other users' calls are not.
func TestRatePerUser(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		now, advance := fakeClock()
		srv := mustServe(t, newMemStore(), serveOptions{limits: Limits{RatePerUser: 3, now: now}})
		alice, bob := p.dial(t, srv, "alice"), p.dial(t, srv, "bob")
		list := func(c taskClient) error {
			_, err := c.ListTasks(context.Background(), &tasksv1.ListTasksRequest{})
			return err
		}
		for i := range 3 {
			if err := list(alice); err != nil {
				t.Fatalf("alice's call %d: %v", i+1, err)
			}
		}
		cerr := mustFailWith(t, list(alice), connect.CodeResourceExhausted, ReasonTooManyRequests)
		if want := "more than 3 calls a second; retry later"; cerr.Message() != want {
			t.Errorf("message %q, want %q", cerr.Message(), want)
		}
		watcher := dialWatcher(t, srv, mustToken(t, "alice", time.Now()))
		wantCode(t, mustWatch(t, watcher, "").end(t), connect.CodeResourceExhausted, ReasonTooManyRequests)
		if err := list(bob); err != nil {
			t.Fatalf("bob, with alice over her rate: %v", err)
		}

		advance(time.Second / 3)
		if err := list(alice); err != nil {
			t.Fatalf("a third of a second later: %v", err)
		}
		mustFailWith(t, list(alice), connect.CodeResourceExhausted, ReasonTooManyRequests)
		advance(time.Hour) // a burst is at most a second's worth
		for range 3 {
			if err := list(alice); err != nil {
				t.Fatal(err)
			}
		}
		mustFailWith(t, list(alice), connect.CodeResourceExhausted, ReasonTooManyRequests)
	})
}

// TestUserLimitsForget: the limits keep state only for users with calls
// in flight or a bucket not yet full again, however many users come by.
func TestUserLimitsForget(t *testing.T) {
	t.Parallel()
	now, advance := fakeClock()
	u := newUserLimits(Limits{MaxInFlight: 100, MaxInFlightPerUser: 2, RatePerUser: 10, now: now})
	const users = 5 * minSweep
	for i := range users {
		user := fmt.Sprint("user-", i)
		if !u.allow(user) || !u.acquire(user) {
			t.Fatalf("%s refused", user)
		}
		u.release(user)
		if i%minSweep == 0 {
			advance(time.Second) // every bucket so far is full again
		}
	}
	u.mu.Lock()
	inFlight, buckets := len(u.inFlight), len(u.full)
	u.mu.Unlock()
	if inFlight != 0 {
		t.Errorf("%d users in flight after every call ended", inFlight)
	}
	if buckets > 2*minSweep {
		t.Errorf("%d buckets kept for %d users, most of them full again", buckets, users)
	}

	// A user at its share stays counted until its calls end.
	u.acquire("alice")
	u.acquire("alice")
	if u.acquire("alice") {
		t.Error("a third call of alice's was let in")
	}
	u.release("alice")
	if !u.acquire("alice") {
		t.Error("alice's call after one ended was refused")
	}
}
