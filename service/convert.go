package service

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
)

// taskToProto converts a stored task to its wire form.
func taskToProto(t Task) *tasksv1.Task {
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
		return nil, Errorf(KindInvalid, "%s is not a valid timestamp", field)
	}
	t := ts.AsTime()
	return &t, nil
}

func newTaskFromProto(req *tasksv1.CreateTaskRequest) (NewTask, error) {
	due, err := timeOrNil(req.GetDueTime(), "due_time")
	if err != nil {
		return NewTask{}, err
	}
	return NewTask{
		Title:       req.GetTitle(),
		Description: req.GetDescription(),
		Priority:    Priority(req.GetPriority()),
		Tags:        req.GetTags(),
		DueTime:     due,
		RequestID:   req.GetRequestId(),
	}, nil
}

func patchFromProto(req *tasksv1.UpdateTaskRequest) (TaskPatch, error) {
	due, err := timeOrNil(req.GetDueTime(), "due_time")
	if err != nil {
		return TaskPatch{}, err
	}
	p := TaskPatch{
		Title:        req.Title,
		Description:  req.Description,
		Completed:    req.Completed,
		DueTime:      due,
		ClearDueTime: req.GetClearDueTime(),
		ETag:         req.GetEtag(),
	}
	if req.Priority != nil {
		pr := Priority(req.GetPriority())
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

func listQueryFromProto(req *tasksv1.ListTasksRequest) (ListQuery, error) {
	before, err := timeOrNil(req.GetDueBefore(), "due_before")
	if err != nil {
		return ListQuery{}, err
	}
	after, err := timeOrNil(req.GetDueAfter(), "due_after")
	if err != nil {
		return ListQuery{}, err
	}
	return ListQuery{
		Filter: TaskFilter{
			Completed: req.Completed,
			Priority:  Priority(req.GetPriority()),
			Tag:       req.GetTag(),
			Query:     req.GetQuery(),
			DueBefore: before,
			DueAfter:  after,
		},
		Order:     TaskOrder(req.GetOrderBy()),
		PageSize:  int(req.GetPageSize()),
		PageToken: req.GetPageToken(),
	}, nil
}
