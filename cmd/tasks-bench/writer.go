package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// writeCall is the writers' call in the watch scenario: half creates,
// half updates (a new title, completed or not) of a random task of a
// random one of users, so that every call commits a change the user's
// watches deliver. Each answer is reported to tr (when not nil) as the
// key the watches will deliver; calls sent before measureFrom are
// reported as warm-up.
func writeCall(users []*user, tr *deliveries, measureFrom time.Time) call {
	return func(ctx context.Context, cl tasksv1connect.TaskServiceClient, rng *rand.Rand) error {
		ui := rng.IntN(len(users))
		u := users[ui]
		ctx = withToken(ctx, u.token)
		sent := time.Now()
		var task *tasksv1.Task
		if rng.IntN(2) == 0 {
			resp, err := cl.CreateTask(ctx, newTaskRequest(rng.IntN(1_000_000)))
			if err != nil {
				return err
			}
			task = resp.GetTask()
		} else {
			title := fmt.Sprintf("Updated task %d", rng.IntN(1_000_000_000))
			completed := rng.IntN(2) == 0
			resp, err := cl.UpdateTask(ctx, &tasksv1.UpdateTaskRequest{
				Id:        u.tasks[rng.IntN(len(u.tasks))],
				Title:     &title,
				Completed: &completed,
			})
			if err != nil {
				return err
			}
			task = resp.GetTask()
		}
		if tr != nil {
			tr.wrote(deliveryKey{task.GetId(), task.GetEtag()}, ui, sent, time.Now(), !sent.Before(measureFrom))
		}
		return nil
	}
}
