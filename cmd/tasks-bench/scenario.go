package main

import (
	"context"
	"fmt"
	"math/rand/v2"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// scenarios are the workloads a run can apply. Each call picks a user at
// random (regular users, or deep users for the deep-list scenarios).
var scenarios = []string{"get", "create", "update", "list", "list-deep", "list-deep-first", "mix"}

// mixWeights is the mix scenario: 70% reads, 30% writes.
var mixWeights = []struct {
	scenario string
	weight   int
}{
	{"get", 50}, {"list", 20}, // reads
	{"create", 15}, {"update", 15}, // writes
}

// call is one request of a scenario, made with a source of randomness
// owned by the calling goroutine.
type call func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error

func newCall(name string, pop *population) (call, error) {
	pick := func(users []*user, rng *rand.Rand) *user { return users[rng.IntN(len(users))] }
	switch name {
	case "get":
		return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
			u := pick(pop.regular, rng)
			_, err := cl.GetTask(withToken(ctx, u.token), &tasksv1.GetTaskRequest{Id: u.tasks[rng.IntN(len(u.tasks))]})
			return err
		}, nil
	case "create":
		return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
			u := pick(pop.regular, rng)
			_, err := cl.CreateTask(withToken(ctx, u.token), newTaskRequest(rng.IntN(1_000_000)))
			return err
		}, nil
	case "update":
		return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
			u := pick(pop.regular, rng)
			title := fmt.Sprintf("Updated task %d", rng.IntN(1_000_000_000))
			completed := rng.IntN(2) == 0
			_, err := cl.UpdateTask(withToken(ctx, u.token), &tasksv1.UpdateTaskRequest{
				Id:        u.tasks[rng.IntN(len(u.tasks))],
				Title:     &title,
				Completed: &completed,
			})
			return err
		}, nil
	case "list":
		return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
			u := pick(pop.regular, rng)
			_, err := cl.ListTasks(withToken(ctx, u.token), &tasksv1.ListTasksRequest{PageSize: pageSize})
			return err
		}, nil
	case "list-deep", "list-deep-first":
		if len(pop.deep) == 0 {
			return nil, fmt.Errorf("%s needs deep users (-deep-users)", name)
		}
		deep := name == "list-deep"
		return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
			u := pick(pop.deep, rng)
			req := &tasksv1.ListTasksRequest{PageSize: pageSize}
			if deep {
				req.PageToken = u.deepToken
			}
			_, err := cl.ListTasks(withToken(ctx, u.token), req)
			return err
		}, nil
	case "mix":
		var calls []call
		var cum []int
		total := 0
		for _, w := range mixWeights {
			c, err := newCall(w.scenario, pop)
			if err != nil {
				return nil, err
			}
			total += w.weight
			calls, cum = append(calls, c), append(cum, total)
		}
		return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
			n := rng.IntN(total)
			for i, c := range cum {
				if n < c {
					return calls[i](ctx, cl, rng)
				}
			}
			panic("unreachable")
		}, nil
	}
	return nil, fmt.Errorf("unknown scenario %q (want one of %v)", name, scenarios)
}
