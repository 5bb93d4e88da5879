package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"connectrpc.com/connect"
	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/timestamppb"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// flaky is a task store that loses answers: a third of calls fail before
// doing anything and a third do their work and then fail, as calls cut by
// a crash do. With twice set it has the bug the ledger exists to catch: a
// create sent again makes a second task.
type flaky struct {
	rng      *rand.Rand
	tasks    map[string]*tasksv1.Task
	requests map[string]string // request_id → task id
	twice    bool
	etags    int
}

func (f *flaky) etag() string { f.etags++; return fmt.Sprint(f.etags) }

func (f *flaky) GetTask(_ context.Context, r *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error) {
	t, ok := f.tasks[r.GetId()]
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, nil)
	}
	return &tasksv1.GetTaskResponse{Task: t}, nil
}

var errLost = connect.NewError(connect.CodeUnavailable, errors.New("answer lost"))

// fate says whether a call happens and whether its answer arrives.
func (f *flaky) fate() (apply, answer bool) {
	switch f.rng.IntN(3) {
	case 0:
		return false, false
	case 1:
		return true, false
	}
	return true, true
}

func (f *flaky) CreateTask(_ context.Context, r *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error) {
	apply, answer := f.fate()
	if !apply {
		return nil, errLost
	}
	id, ok := f.requests[r.GetRequestId()]
	if !ok || f.twice {
		id = uuid.NewString()
		f.requests[r.GetRequestId()] = id
		f.tasks[id] = &tasksv1.Task{Id: id, Title: r.GetTitle(), CreateTime: timestamppb.Now(), Etag: f.etag()}
	}
	if !answer {
		return nil, errLost
	}
	return &tasksv1.CreateTaskResponse{Task: f.tasks[id]}, nil
}

func (f *flaky) UpdateTask(_ context.Context, r *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error) {
	t, ok := f.tasks[r.GetId()]
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, nil)
	}
	if r.GetEtag() != "" && r.GetEtag() != t.GetEtag() {
		return nil, connect.NewError(connect.CodeAborted, nil)
	}
	apply, answer := f.fate()
	if apply {
		t.Title, t.Etag = r.GetTitle(), f.etag()
	}
	if !answer {
		return nil, errLost
	}
	return &tasksv1.UpdateTaskResponse{Task: t}, nil
}

func (f *flaky) DeleteTask(_ context.Context, r *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error) {
	if _, ok := f.tasks[r.GetId()]; !ok {
		return nil, connect.NewError(connect.CodeNotFound, nil)
	}
	apply, answer := f.fate()
	if apply {
		delete(f.tasks, r.GetId())
	}
	if !answer {
		return nil, errLost
	}
	return &tasksv1.DeleteTaskResponse{}, nil
}

func (f *flaky) ListTaskChanges(context.Context, *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error) {
	resp := &tasksv1.ListTaskChangesResponse{}
	for _, t := range f.tasks {
		resp.Changes = append(resp.Changes, &tasksv1.TaskChange{Change: &tasksv1.TaskChange_Task{Task: t}})
	}
	return resp, nil
}

// run has two writers of one user make 2,000 calls against f, keeping on
// past lost answers, then settles them (f answers eventually) and checks.
func run(t *testing.T, f *flaky) Result {
	t.Helper()
	ctx := context.Background()
	writers := []*Writer{NewWriter("u", "token", "w1", 1), NewWriter("u", "token", "w2", 2)}
	for range 1000 {
		for _, w := range writers {
			if err := w.step(ctx, f); IsViolation(err) {
				return Result{Violations: []string{err.Error()}}
			} else if err != nil && !errors.Is(err, errLost) {
				t.Fatal(err)
			}
		}
	}
	for _, w := range writers {
		if err := w.Settle(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	r, err := Check(ctx, f, writers)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newFlaky() *flaky {
	return &flaky{rng: rand.New(rand.NewPCG(3, 4)), tasks: map[string]*tasksv1.Task{}, requests: map[string]string{}}
}

// A store that loses only answers passes, however many.
func TestWritersThroughLostAnswers(t *testing.T) {
	r := run(t, newFlaky())
	if len(r.Violations) != 0 {
		t.Fatalf("violations: %q", r.Violations)
	}
	if r.Stats.InDoubt < 500 || r.Stats.Acked < 500 || r.Stats.Replayed == 0 || r.Expected == 0 || r.Tasks < r.Expected {
		t.Fatalf("the run proved little: %+v", r)
	}
}

// A store that runs a create sent again a second time fails the check.
func TestWritersCatchADoubleCreate(t *testing.T) {
	f := newFlaky()
	f.twice = true
	r := run(t, f)
	if len(r.Violations) == 0 {
		t.Fatal("no violation found in a store that makes a task per request, not per request_id")
	}
}
