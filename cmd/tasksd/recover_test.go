package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
	"github.com/example/tasks/service"
)

// panickingStore stands for a bug in a handler's dependency.
type panickingStore struct{ tasks.TaskStore }

func (panickingStore) GetTask(context.Context, string, string) (tasks.Task, error) {
	panic("bug: nil map")
}

// TestPanicAnsweredInternal: a panic in a handler is logged with the
// request id and answered Internal with a plain message; the server goes
// on serving.
func TestPanicAnsweredInternal(t *testing.T) {
	t.Parallel()
	validator, err := service.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := routes{
		store:     panickingStore{},
		validator: validator,
		authenticate: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				next.ServeHTTP(w, r.WithContext(tasks.WithUser(r.Context(), tasks.User{ID: "u"})))
			})
		},
		health:          newHealthMonitor(func(context.Context) error { return nil }, time.Second, logger),
		logger:          logger,
		maxRequestBytes: 1 << 20,
		bodyReadTimeout: time.Second,
		limits:          service.Limits{MaxInFlight: 4},
		callTimeout:     time.Second,
	}.handler()
	srv := httptest.NewServer(h)
	defer srv.Close()

	c := tasksv1connect.NewTaskServiceClient(srv.Client(), srv.URL)
	for range 2 {
		_, err := c.GetTask(context.Background(), &tasksv1.GetTaskRequest{Id: "01936d5e-8f5a-7b3c-9d2e-4f1a2b3c4d5e"})
		var cerr *connect.Error
		if !errors.As(err, &cerr) || cerr.Code() != connect.CodeInternal || cerr.Message() != "internal error" {
			t.Fatalf("got %v, want a plain internal error", err)
		}
	}
	if !strings.Contains(logs.String(), "bug: nil map") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}

	// The request id a client sends comes back and is in the log line.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+tasksv1connect.TaskServiceGetTaskProcedure, strings.NewReader(`{"id":"x"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(service.RequestIDHeader, "req-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if got := resp.Header.Get(service.RequestIDHeader); got != "req-123" {
		t.Errorf("request id in the response: %q", got)
	}
	if !strings.Contains(logs.String(), "request_id=req-123") {
		t.Errorf("request id not logged:\n%s", logs.String())
	}
}
