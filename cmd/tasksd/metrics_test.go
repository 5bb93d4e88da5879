package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/telemetry/telemetrytest"
)

// mustFreeAddr returns a loopback address nothing listens on, for a
// listener the server opens itself (DEBUG_ADDR).
func mustFreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// calls is how many calls of procedure ended with code, by /metrics.
func calls(m telemetrytest.Metrics, procedure, code string) float64 {
	return m.Value("rpc_server_call_duration_seconds", "rpc_method", "tasks.v1.TaskService/"+procedure, "rpc_response_status_code", code)
}

// TestMetricsEndpoint: DEBUG_ADDR serves /metrics (and the API's port does
// not), and after real calls over every protocol it reports each call once
// under its procedure and code, the token cache's hits, the pools,
// readiness and the Go runtime.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	debug := mustFreeAddr(t)
	s := mustStartServer(t, map[string]string{"DEBUG_ADDR": debug})
	metrics := func() telemetrytest.Metrics { return telemetrytest.Scrape(t, "http://"+debug+"/metrics") }
	if code := mustGetStatus(t, s.baseURL+"/metrics"); code == http.StatusOK {
		t.Error("/metrics reachable through the API port")
	}

	token := s.mustToken(t, "counted")
	task := mustCreate(t, connectDialer()(t, s, token), &tasksv1.CreateTaskRequest{Title: "counted"})
	for _, p := range protocols {
		c := p.dial(t, s, token)
		if _, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: task.GetId()}); err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		_, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: uuid.NewString()})
		if got := inspect(t, err); got.code != connect.CodeNotFound {
			t.Fatalf("%s: %v, want NotFound", p.name, got.code)
		}
	}

	// Refused before the handler: no token, and a token that is not one.
	for _, bad := range []string{"", "not-a-token"} {
		_, err := connectDialer()(t, s, bad).GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: task.GetId()})
		if got := inspect(t, err); got.code != connect.CodeUnauthenticated {
			t.Fatalf("token %q: %v, want Unauthenticated", bad, got.code)
		}
	}

	mustWaitFor(t, "readiness", func() bool { return metrics().Value("tasks_ready") == 1 })
	m := metrics()
	n := float64(len(protocols))
	for _, want := range []struct {
		what string
		got  float64
		want float64
	}{
		{"GetTask OK", calls(m, "GetTask", "OK"), n},
		{"GetTask NOT_FOUND", calls(m, "GetTask", "NOT_FOUND"), n},
		{"CreateTask OK", calls(m, "CreateTask", "OK"), 1},
		{"calls in flight", m.Value("tasks_calls_in_flight"), 0},
		{"calls shed", m.Value("tasks_calls_refused_total", "reason", "shed"), 0},
		// The two, and the GET of /metrics on the API's port above.
		{"calls refused unauthenticated", m.Value("tasks_calls_refused_total", "reason", "unauthenticated"), 3},
		{"calls refused for want of the issuer's keys", m.Value("tasks_calls_refused_total", "reason", "auth_unavailable"), 0},
		// One token for all 1 + 2n calls: verified once, found after.
		{"token cache misses", m.Value("tasks_auth_token_cache_lookups_total", "result", "miss"), 1},
		{"token cache hits", m.Value("tasks_auth_token_cache_lookups_total", "result", "hit"), 2 * n},
	} {
		if want.got != want.want {
			t.Errorf("%s: %v, want %v", want.what, want.got, want.want)
		}
	}
	for _, series := range [][]string{
		{"tasks_calls_refused_total", "reason", "shed"},
		{"tasks_calls_refused_total", "reason", "rate_limited"},
		{"tasks_db_connections", "pool", "writer", "state", "idle"},
		{"tasks_db_connections_max", "pool", "reader"},
		{"tasks_db_connection_waits_total", "pool", "reader"},
		{"tasks_watches_open"},
		{"go_goroutines"},
		{"process_resident_memory_bytes"},
	} {
		if !m.Has(series[0], series[1:]...) {
			t.Errorf("no series %v", series)
		}
	}
}

// TestShedMetrics: on PostgreSQL with MAX_IN_FLIGHT=1 and the one slot
// held, /metrics reports the call in flight and each call shed.
func TestShedMetrics(t *testing.T) {
	t.Parallel()
	debug := mustFreeAddr(t)
	l := mustLockedTask(t, map[string]string{"MAX_IN_FLIGHT": "1", "DEBUG_ADDR": debug}, "busy-user")
	metrics := func() telemetrytest.Metrics { return telemetrytest.Scrape(t, "http://"+debug+"/metrics") }
	held := make(chan error, 1)
	go func() {
		_, err := l.c.UpdateTask(context.Background(), &tasksv1.UpdateTaskRequest{Id: l.task.GetId(), Title: proto.String("slow")})
		held <- err
	}()
	mustWaitFor(t, "the update to hold the only slot", func() bool { return lockWaiters(t, l.db) == 1 })
	for _, p := range protocols {
		_, err := p.dial(t, l.s, l.s.mustToken(t, "busy-user")).GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: l.task.GetId()})
		if got := inspect(t, err); got.code != connect.CodeUnavailable {
			t.Fatalf("%s while full: %v", p.name, got.code)
		}
	}
	m := metrics()
	if got := m.Value("tasks_calls_in_flight"); got != 1 {
		t.Errorf("in flight: %v, want the held update", got)
	}
	if got := m.Value("tasks_calls_refused_total", "reason", "shed"); got != float64(len(protocols)) {
		t.Errorf("shed: %v, want %d", got, len(protocols))
	}
	if got := m.Value("tasks_db_connections", "pool", "primary", "state", "in_use"); got < 1 {
		t.Errorf("PostgreSQL connections in use: %v, want the held update's", got)
	}

	l.release()
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	m = metrics()
	if got, shed := calls(m, "UpdateTask", "OK"), m.Value("tasks_calls_refused_total", "reason", "shed"); got != 1 || shed != float64(len(protocols)) {
		t.Errorf("after: %v UpdateTask OK, %v shed", got, shed)
	}
}

// TestJWKSMetrics: JWKS fetches are counted by result: the one at start,
// and one a token with an unknown key id asks for while the issuer fails.
func TestJWKSMetrics(t *testing.T) {
	t.Parallel()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	issuer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if failing.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"k1","x":%q}]}`, base64.RawURLEncoding.EncodeToString(pub))
	}))
	t.Cleanup(issuer.Close)
	debug := mustFreeAddr(t)
	s := mustStartServer(t, map[string]string{"DEBUG_ADDR": debug, "AUTH_JWKS_URL": issuer.URL})
	fetches := func(result string) float64 {
		return telemetrytest.Scrape(t, "http://"+debug+"/metrics").Value("tasks_auth_jwks_fetches_total", "result", result)
	}
	if ok, failed := fetches("ok"), fetches("error"); ok != 1 || failed != 0 {
		t.Errorf("after start: %v ok, %v failed; want 1 and 0", ok, failed)
	}

	failing.Store(true)
	b64 := base64.RawURLEncoding.EncodeToString
	unknownKey := b64([]byte(`{"alg":"EdDSA","kid":"k2"}`)) + "." + b64([]byte(`{"sub":"x","exp":4102444800}`)) + "." + b64([]byte("sig"))
	_, err = connectDialer()(t, s, unknownKey).GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: uuid.NewString()})
	if got := inspect(t, err); got.code != connect.CodeUnauthenticated {
		t.Fatalf("a token with an unknown kid: %v", got.code)
	}
	if ok, failed := fetches("ok"), fetches("error"); ok != 1 || failed != 1 {
		t.Errorf("after the unknown kid: %v ok, %v failed; want 1 and 1", ok, failed)
	}
}
