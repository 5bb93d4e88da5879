package service

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/google/uuid"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// What every call gets around the handler: a request id, a deadline, and
// a place among a bounded number of calls in flight.

var generatedRequestID = regexp.MustCompile(`^[0-9a-f]{16}$`)

func TestRequestID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		send string // X-Request-Id sent; "" for none
		fail bool   // ask for a task that does not exist
		want string // "" for a generated id
	}{
		{name: "echoed", send: "req-42", want: "req-42"},
		{name: "echoed on an error", send: "req-43", fail: true, want: "req-43"},
		{name: "generated", send: ""},
		{name: "generated on an error", send: "", fail: true},
		{name: "too long, replaced", send: strings.Repeat("r", 65)},
	}
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		srv := mustServe(t, newMemStore(), serveOptions{})
		c := p.dial(t, srv, "alice")
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "x"})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				x := &exchange{send: http.Header{}}
				if tt.send != "" {
					x.send.Set(RequestIDHeader, tt.send)
				}
				id := task.GetId()
				if tt.fail {
					id = uuid.NewString()
				}
				_, err := c.GetTask(withExchange(context.Background(), x), &tasksv1.GetTaskRequest{Id: id})
				if tt.fail {
					mustFailWith(t, err, connect.CodeNotFound, ReasonNotFound)
				} else if err != nil {
					t.Fatal(err)
				}
				got := x.got.Values(RequestIDHeader)
				if len(got) != 1 {
					t.Fatalf("request ids %q in %v", got, x.got)
				}
				switch {
				case tt.want != "" && got[0] != tt.want:
					t.Fatalf("request id %q, want %q", got[0], tt.want)
				case tt.want == "" && !generatedRequestID.MatchString(got[0]):
					t.Fatalf("request id %q, want a generated one", got[0])
				}
				srv.logs.mustContain(t, "request_id="+got[0])
			})
		}
	})
}

// TestDefaultDeadline checks that a call whose client set no deadline
// reaches the store with the server's, and one whose client did keeps its
// own.
func TestDefaultDeadline(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		var (
			mu        sync.Mutex
			deadlines []time.Time // what the store saw; zero for none
		)
		store := faultyStore{fail: func(ctx context.Context) error {
			d, _ := ctx.Deadline()
			mu.Lock()
			defer mu.Unlock()
			deadlines = append(deadlines, d)
			return nil
		}}
		c := p.dial(t, mustServe(t, store, serveOptions{}), "alice")
		seen := func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return deadlines[len(deadlines)-1]
		}
		for _, rpc := range everyCall {
			t.Run(rpc.name, func(t *testing.T) {
				before := time.Now()
				if err := rpc.call(context.Background(), c); err != nil {
					t.Fatal(err)
				}
				after := time.Now()
				if d := seen(); d.Before(before.Add(testCallTimeout)) || d.After(after.Add(testCallTimeout)) {
					t.Errorf("no client deadline: the store saw %v, want CallTimeout from the call", d)
				}

				ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
				defer cancel()
				if err := rpc.call(ctx, c); err != nil {
					t.Fatal(err)
				}
				if d := seen(); !d.After(time.Now().Add(30 * time.Minute)) {
					t.Errorf("a client deadline an hour away: the store saw %v", d)
				}
			})
		}
	})
}

// TestLimitInFlight fills every slot with calls the store holds, and
// checks that the next call is refused Unavailable straight away and that
// the slots serve again once the held calls are done.
func TestLimitInFlight(t *testing.T) {
	t.Parallel()
	const slots = 2
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		var calls atomic.Int32 // calls the store saw
		entered := make(chan struct{}, slots)
		release := make(chan struct{})
		store := faultyStore{fail: func(ctx context.Context) error {
			if calls.Add(1) > slots {
				return nil // hold only the first calls, so a missing limit fails instead of hanging
			}
			entered <- struct{}{}
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
		left := make(chan struct{}, 2*slots+2) // calls that left LimitInFlight
		srv := mustServe(t, store, serveOptions{limits: Limits{MaxInFlight: slots}, around: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r)
				left <- struct{}{}
			})
		}})
		releaseAll := sync.OnceFunc(func() { close(release) })
		t.Cleanup(releaseAll) // before the server closes, should the test fail
		c := p.dial(t, srv, "alice")
		list := func() error {
			_, err := c.ListTasks(context.Background(), &tasksv1.ListTasksRequest{})
			return err
		}

		held := make(chan error, slots)
		for range slots {
			go func() { held <- list() }()
		}
		for range slots {
			select {
			case <-entered:
			case err := <-held:
				t.Fatalf("a call ended before the store held it: %v", err)
			}
		}
		cerr := mustFailWith(t, list(), connect.CodeUnavailable, ReasonUnavailable)
		if cerr.Message() != "server overloaded, retry later" {
			t.Errorf("message %q", cerr.Message())
		}
		if n := calls.Load(); n != slots {
			t.Errorf("the store saw %d calls, want the %d held ones", n, slots)
		}

		releaseAll()
		for range slots {
			if err := <-held; err != nil {
				t.Errorf("a held call: %v", err)
			}
		}
		for range slots + 1 {
			<-left
		}
		if err := list(); err != nil {
			t.Fatalf("after the held calls ended: %v", err)
		}
	})
}

// TestCompression checks the server's gzip both ways: a request a client
// compressed is read, and a response past the minimum size is compressed
// for clients that accept gzip (grpc-go asks for none here).
func TestCompression(t *testing.T) {
	t.Parallel()
	eachProtocol(t, func(t *testing.T, p clientProtocol) {
		srv := mustServe(t, newMemStore(), serveOptions{})
		if !p.grpcGo {
			p.opts = slices.Concat(p.opts, []connect.ClientOption{connect.WithSendGzip()})
		}
		c := p.dial(t, srv, "alice")
		description := strings.Repeat("a long description ", 200)
		task := mustCreateTask(t, c, &tasksv1.CreateTaskRequest{Title: "big", Description: description})
		x := &exchange{}
		resp, err := c.GetTask(withExchange(context.Background(), x), &tasksv1.GetTaskRequest{Id: task.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetTask().GetDescription() != description {
			t.Fatalf("description of %d bytes came back as %d", len(description), len(resp.GetTask().GetDescription()))
		}
		want := "gzip"
		if p.grpcGo {
			want = ""
		}
		if got := x.got.Get("Content-Encoding") + x.got.Get("Grpc-Encoding"); got != want {
			t.Errorf("response encoding %q, want %q", got, want)
		}
	})
}
