package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/attack"
	"github.com/example/tasks/service"
)

// The attacks of issue 14, item 1, against the real server: one signed-in
// user must not be able to deny service to the others.

// attackTimeout bounds an attack the server fails to cut off, so such a
// test fails instead of hanging.
const attackTimeout = 30 * time.Second

// fairServer is a server with few slots and a short body timeout, so that
// slow clients would take every slot if they could, and are cut off soon.
func fairServer(tb testing.TB, env map[string]string) *testServer {
	tb.Helper()
	vars := map[string]string{"MAX_IN_FLIGHT": "8", "BODY_READ_TIMEOUT": "300ms"}
	for k, v := range env {
		vars[k] = v
	}
	return mustStartServer(tb, vars)
}

// duringAttack makes bob's calls while attack runs, and returns their
// summary once attack has returned.
func duringAttack(t *testing.T, s *testServer, attack func(ctx context.Context)) attack.Summary {
	t.Helper()
	bob := connectDialer()(t, s, s.mustToken(t, "bob"))
	task := mustCreate(t, bob, &tasksv1.CreateTaskRequest{Title: "bob's"})
	ctx, cancel := context.WithTimeout(context.Background(), attackTimeout)
	defer cancel()
	victimCtx, stopVictim := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		attack(ctx)
		stopVictim()
	}()
	summary := attackCalls(victimCtx, 2, func(ctx context.Context) error {
		_, err := bob.GetTask(ctx, &tasksv1.GetTaskRequest{Id: task.GetId()})
		return err
	})
	<-done
	return summary
}

// attackCalls is attack.Calls, named apart from the attack package in
// these tests' closures.
var attackCalls = attack.Calls

// mustAllSucceed fails unless the victim made calls and every one
// succeeded.
func mustAllSucceed(t *testing.T, s attack.Summary) {
	t.Helper()
	if s.Calls == 0 || s.OK != s.Calls {
		t.Errorf("bob's calls during the attack: %d of %d succeeded, failures %v", s.OK, s.Calls, s.Codes)
	}
}

// TestSlowBodies: requests whose bodies trickle in take no slot from
// anyone, and the server cuts each off after BODY_READ_TIMEOUT: HTTP/2
// streams (one connection, more streams than there are slots) are
// answered or reset, HTTP/1.1 connections closed, the health service's
// (no token needed) too.
func TestSlowBodies(t *testing.T) {
	t.Parallel()
	trickle := attack.Trickle{Interval: 50 * time.Millisecond}
	health := attack.Trickle{Path: attack.HealthCheckPath, Interval: trickle.Interval}
	for _, tc := range []struct {
		name string
		n    int64
		run  func(ctx context.Context, s *testServer, p *attack.Progress)
	}{
		{"HTTP/2", 40, func(ctx context.Context, s *testServer, p *attack.Progress) {
			attack.SlowBodiesHTTP2(ctx, attack.Target{Addr: s.hostPort(), Token: s.mustToken(t, "alice")}, 1, 40, trickle, p)
		}},
		{"HTTP/1.1", 20, func(ctx context.Context, s *testServer, p *attack.Progress) {
			attack.SlowBodiesHTTP1(ctx, attack.Target{Addr: s.hostPort(), Token: s.mustToken(t, "alice")}, 20, trickle, p)
		}},
		{"health", 20, func(ctx context.Context, s *testServer, p *attack.Progress) {
			attack.SlowBodiesHTTP1(ctx, attack.Target{Addr: s.hostPort()}, 20, health, p)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := fairServer(t, nil)
			var p attack.Progress
			bob := duringAttack(t, s, func(ctx context.Context) { tc.run(ctx, s, &p) })
			if p.Started() != tc.n || p.Cut() != tc.n {
				t.Errorf("%d slow requests started, %d cut off by the server, want all %d cut off", p.Started(), p.Cut(), tc.n)
			}
			mustAllSucceed(t, bob)
		})
	}
}

// TestOneUserFlood: one user with many more calls at once than the
// server has slots gets its share, MAX_IN_FLIGHT_PER_USER, and
// ResourceExhausted (TOO_MANY_REQUESTS) beyond it; another user's calls
// all succeed meanwhile.
func TestOneUserFlood(t *testing.T) {
	t.Parallel()
	s := fairServer(t, map[string]string{"MAX_IN_FLIGHT": "16", "MAX_IN_FLIGHT_PER_USER": "4"})
	alice := connectDialer()(t, s, s.mustToken(t, "alice"))
	mustCreate(t, alice, &tasksv1.CreateTaskRequest{Title: "alice's"})
	var (
		mu    sync.Mutex
		codes = map[string]int{} // alice's failures, by code and reason
	)
	const enough = 200 // refusals of alice's, to be sure she flooded while bob called
	bob := duringAttack(t, s, func(ctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		attackCalls(ctx, 100, func(ctx context.Context) error {
			_, err := alice.ListTasks(ctx, &tasksv1.ListTasksRequest{})
			var cerr *connect.Error
			if errors.As(err, &cerr) && ctx.Err() == nil {
				mu.Lock()
				key := fmt.Sprintf("%v/%s", cerr.Code(), service.ErrorReason(cerr))
				codes[key]++
				if codes["resource_exhausted/TOO_MANY_REQUESTS"] >= enough {
					cancel()
				}
				mu.Unlock()
			}
			return err
		})
	})
	mustAllSucceed(t, bob)
	mu.Lock()
	defer mu.Unlock()
	for code, n := range codes {
		if code != "resource_exhausted/TOO_MANY_REQUESTS" {
			t.Errorf("alice's calls failed %d times with %s, want only resource_exhausted/TOO_MANY_REQUESTS", n, code)
		}
	}
}
