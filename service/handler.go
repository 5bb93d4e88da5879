package service

import (
	"context"
	"log/slog"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/gen/tasks/v1/tasksv1connect"
)

// taskService serves tasks.v1.TaskService from a TaskStore. It expects the
// request to be authenticated (the caller in the context, see
// Authenticate) and validated before it runs, and returns domain errors
// that the error interceptor turns into Connect errors.
type taskService struct {
	store     tasks.TaskStore
	watches   *WatchHub  // nil: WatchTasks is not served
	telemetry *Telemetry // nil: nothing is reported
	logger    *slog.Logger
}

var _ tasksv1connect.TaskServiceHandler = (*taskService)(nil)

// caller returns the authenticated user's id. The auth middleware refuses
// requests without one, so a missing user is a wiring bug; it still fails
// closed.
func caller(ctx context.Context) (string, error) {
	u, err := callerUser(ctx)
	return u.ID, err
}

// callerUser is caller with the rest of what is known of the caller.
func callerUser(ctx context.Context) (tasks.User, error) {
	u, ok := tasks.UserFrom(ctx)
	if !ok {
		return tasks.User{}, tasks.Errorf(tasks.KindUnauthenticated, "invalid token")
	}
	return u, nil
}

// CreateTask implements tasks.v1.TaskService.
func (h *taskService) CreateTask(ctx context.Context, req *tasksv1.CreateTaskRequest) (*tasksv1.CreateTaskResponse, error) {
	userID, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	nt, err := newTaskFromProto(req)
	if err != nil {
		return nil, err
	}
	t, err := h.store.CreateTask(ctx, userID, nt)
	if err != nil {
		return nil, err
	}
	return &tasksv1.CreateTaskResponse{Task: h.wireTask(ctx, t)}, nil
}

// GetTask implements tasks.v1.TaskService.
func (h *taskService) GetTask(ctx context.Context, req *tasksv1.GetTaskRequest) (*tasksv1.GetTaskResponse, error) {
	userID, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := h.store.GetTask(ctx, userID, req.GetId())
	if err != nil {
		return nil, err
	}
	return &tasksv1.GetTaskResponse{Task: h.wireTask(ctx, t)}, nil
}

// ListTasks implements tasks.v1.TaskService.
func (h *taskService) ListTasks(ctx context.Context, req *tasksv1.ListTasksRequest) (*tasksv1.ListTasksResponse, error) {
	userID, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q, err := listQueryFromProto(req)
	if err != nil {
		return nil, err
	}
	page, err := h.store.ListTasks(ctx, userID, q)
	if err != nil {
		return nil, err
	}
	resp := &tasksv1.ListTasksResponse{
		Tasks:         make([]*tasksv1.Task, len(page.Tasks)),
		NextPageToken: page.NextPageToken,
		TotalSize:     int32(page.TotalSize),
	}
	for i, t := range page.Tasks {
		resp.Tasks[i] = h.wireTask(ctx, t)
	}
	return resp, nil
}

// UpdateTask implements tasks.v1.TaskService.
func (h *taskService) UpdateTask(ctx context.Context, req *tasksv1.UpdateTaskRequest) (*tasksv1.UpdateTaskResponse, error) {
	userID, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	p, err := patchFromProto(req)
	if err != nil {
		return nil, err
	}
	t, err := h.store.UpdateTask(ctx, userID, req.GetId(), p)
	if err != nil {
		return nil, err
	}
	return &tasksv1.UpdateTaskResponse{Task: h.wireTask(ctx, t)}, nil
}

// DeleteTask implements tasks.v1.TaskService.
func (h *taskService) DeleteTask(ctx context.Context, req *tasksv1.DeleteTaskRequest) (*tasksv1.DeleteTaskResponse, error) {
	userID, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.store.DeleteTask(ctx, userID, req.GetId(), req.GetEtag()); err != nil {
		return nil, err
	}
	return &tasksv1.DeleteTaskResponse{}, nil
}

// ListTaskChanges implements tasks.v1.TaskService.
func (h *taskService) ListTaskChanges(ctx context.Context, req *tasksv1.ListTaskChangesRequest) (*tasksv1.ListTaskChangesResponse, error) {
	userID, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	page, err := h.store.ListTaskChanges(ctx, userID, tasks.ChangeQuery{Cursor: req.GetCursor(), PageSize: int(req.GetPageSize())})
	if err != nil {
		return nil, err
	}
	return &tasksv1.ListTaskChangesResponse{
		Changes:    h.wireChanges(ctx, page.Changes),
		NextCursor: page.NextCursor,
		HasMore:    page.HasMore,
	}, nil
}
