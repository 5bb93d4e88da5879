package service

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// taskToProto converts a stored task to its wire form, and names the
// fields it had to repair (see repairs).
func taskToProto(t tasks.Task) (*tasksv1.Task, []string) {
	var r repairs
	return &tasksv1.Task{
		Id:           r.text("id", t.ID),
		Title:        r.text("title", t.Title),
		Description:  r.text("description", t.Description),
		Completed:    t.Completed,
		Priority:     tasksv1.Priority(t.Priority),
		Tags:         r.texts("tags", t.Tags),
		DueTime:      r.timeOrNil("due_time", t.DueTime),
		CreateTime:   r.time("create_time", t.CreateTime),
		UpdateTime:   r.time("update_time", t.UpdateTime),
		CompleteTime: r.timeOrNil("complete_time", t.CompleteTime),
		Etag:         t.ETag,
	}, r.fields
}

// wireTask is taskToProto for a call, logging a task it had to repair, so
// that an operator learns of a row to fix.
func (h *taskService) wireTask(ctx context.Context, t tasks.Task) *tasksv1.Task {
	out, repaired := taskToProto(t)
	if len(repaired) > 0 {
		h.logger.LogAttrs(ctx, slog.LevelWarn, "stored task sent repaired",
			slog.String("task", t.ID),
			slog.Any("fields", repaired),
			slog.String("request_id", RequestIDFrom(ctx)),
		)
	}
	return out
}

// wireChanges converts changes to their wire form, as wireTask does.
func (h *taskService) wireChanges(ctx context.Context, changes []tasks.TaskChange) []*tasksv1.TaskChange {
	out := make([]*tasksv1.TaskChange, len(changes))
	for i, c := range changes {
		if c.Task != nil {
			out[i] = &tasksv1.TaskChange{Change: &tasksv1.TaskChange_Task{Task: h.wireTask(ctx, *c.Task)}}
		} else {
			out[i] = &tasksv1.TaskChange{Change: &tasksv1.TaskChange_DeletedTaskId{DeletedTaskId: c.DeletedID}}
		}
	}
	return out
}

// timeOrNil converts an optional wire timestamp. The schema checks its
// range, but not that it is a timestamp at all (nanos from 0 to a second),
// so this does, naming the field in the error; the domain checks the range
// again after rounding.
func timeOrNil(ts *timestamppb.Timestamp, field string) (*time.Time, error) {
	if ts == nil {
		return nil, nil
	}
	if err := ts.CheckValid(); err != nil {
		return nil, tasks.FieldErrorf(field, "%s is not a valid timestamp", field)
	}
	t := ts.AsTime()
	return &t, nil
}

func newTaskFromProto(req *tasksv1.CreateTaskRequest) (tasks.NewTask, error) {
	due, err := timeOrNil(req.GetDueTime(), "due_time")
	if err != nil {
		return tasks.NewTask{}, err
	}
	return tasks.NewTask{
		Title:       req.GetTitle(),
		Description: req.GetDescription(),
		Priority:    tasks.Priority(req.GetPriority()),
		Tags:        req.GetTags(),
		DueTime:     due,
		RequestID:   req.GetRequestId(),
	}, nil
}

func patchFromProto(req *tasksv1.UpdateTaskRequest) (tasks.TaskPatch, error) {
	due, err := timeOrNil(req.GetDueTime(), "due_time")
	if err != nil {
		return tasks.TaskPatch{}, err
	}
	p := tasks.TaskPatch{
		Title:        req.Title,
		Description:  req.Description,
		Completed:    req.Completed,
		DueTime:      due,
		ClearDueTime: req.GetClearDueTime(),
		ETag:         req.GetEtag(),
	}
	if req.Priority != nil {
		pr := tasks.Priority(req.GetPriority())
		p.Priority = &pr
	}
	if req.Tags != nil {
		tags := req.GetTags().GetValues()
		if tags == nil {
			tags = []string{}
		}
		p.Tags = &tags
	}
	return p, nil
}

func listQueryFromProto(req *tasksv1.ListTasksRequest) (tasks.ListQuery, error) {
	before, err := timeOrNil(req.GetDueBefore(), "due_before")
	if err != nil {
		return tasks.ListQuery{}, err
	}
	after, err := timeOrNil(req.GetDueAfter(), "due_after")
	if err != nil {
		return tasks.ListQuery{}, err
	}
	return tasks.ListQuery{
		Filter: tasks.TaskFilter{
			Completed: req.Completed,
			Priority:  tasks.Priority(req.GetPriority()),
			Tag:       req.GetTag(),
			Query:     req.GetQuery(),
			DueBefore: before,
			DueAfter:  after,
		},
		Order:        tasks.TaskOrder(req.GetOrderBy()),
		PageSize:     int(req.GetPageSize()),
		PageToken:    req.GetPageToken(),
		IncludeTotal: req.GetIncludeTotalSize(),
	}, nil
}
