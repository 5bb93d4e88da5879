package service

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/example/tasks"
	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// taskToProto converts a stored task to its wire form.
func taskToProto(t tasks.Task) *tasksv1.Task {
	return &tasksv1.Task{
		Id:           t.ID,
		Title:        t.Title,
		Description:  t.Description,
		Completed:    t.Completed,
		Priority:     tasksv1.Priority(t.Priority),
		Tags:         t.Tags,
		DueTime:      timestampOrNil(t.DueTime),
		CreateTime:   timestamppb.New(t.CreateTime),
		UpdateTime:   timestamppb.New(t.UpdateTime),
		CompleteTime: timestampOrNil(t.CompleteTime),
		Etag:         t.ETag,
	}
}

// changesToProto converts changes to their wire form.
func changesToProto(changes []tasks.TaskChange) []*tasksv1.TaskChange {
	out := make([]*tasksv1.TaskChange, len(changes))
	for i, c := range changes {
		if c.Task != nil {
			out[i] = &tasksv1.TaskChange{Change: &tasksv1.TaskChange_Task{Task: taskToProto(*c.Task)}}
		} else {
			out[i] = &tasksv1.TaskChange{Change: &tasksv1.TaskChange_DeletedTaskId{DeletedTaskId: c.DeletedID}}
		}
	}
	return out
}

func timestampOrNil(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

// timeOrNil converts an optional wire timestamp. The schema does not check
// that a timestamp is in range (years 1 to 9999, nanos below a second), so
// this does, naming the field in the error.
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
