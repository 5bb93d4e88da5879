package tasks

import (
	"time"
	"unicode/utf8"
)

// TaskOrder mirrors tasks.v1.TaskOrder. Every order breaks remaining ties by
// id.
type TaskOrder int32

// The orders, with the same values as tasks.v1.TaskOrder.
const (
	OrderUnspecified    TaskOrder = 0 // same as OrderCreateTimeDesc
	OrderCreateTimeDesc TaskOrder = 1
	OrderCreateTimeAsc  TaskOrder = 2
	OrderUpdateTimeDesc TaskOrder = 3
	OrderDueTimeAsc     TaskOrder = 4 // tasks without a due date last
	OrderPriorityDesc   TaskOrder = 5 // ties newest first
	OrderTitleAsc       TaskOrder = 6
)

// Valid reports whether o is one of the defined orders.
func (o TaskOrder) Valid() bool { return o >= OrderUnspecified && o <= OrderTitleAsc }

// TaskFilter selects tasks; zero fields match everything.
type TaskFilter struct {
	Completed *bool
	Priority  Priority // PriorityUnspecified: any
	Tag       string   // compared lower-cased
	Query     string   // case-insensitive literal substring of title or description
	DueBefore *time.Time
	DueAfter  *time.Time
}

// ListQuery asks for one page of a user's tasks.
type ListQuery struct {
	Filter    TaskFilter
	Order     TaskOrder
	PageSize  int    // 0 means DefaultPageSize; above MaxPageSize means MaxPageSize
	PageToken string // from TaskPage.NextPageToken; empty for the first page
	// IncludeTotal asks for TaskPage.TotalSize, which costs a count of
	// every matching task.
	IncludeTotal bool
}

// Normalize checks q and returns it with its defaults filled in (the page
// size, CREATE_TIME_DESC for no order) and its filter as tasks are stored
// (the tag lower-cased, times rounded). A negative page size or a value
// outside its range is an Invalid error naming the field. The page token
// is the store's to check.
func (q ListQuery) Normalize() (ListQuery, error) {
	var err error
	if q.PageSize, err = pageSize(q.PageSize, DefaultPageSize, MaxPageSize); err != nil {
		return q, err
	}
	if q.Order == OrderUnspecified {
		q.Order = OrderCreateTimeDesc
	}
	if !q.Order.Valid() {
		return q, FieldErrorf("order_by", "order_by %d is not a defined value", q.Order)
	}
	f := &q.Filter
	if err := checkPriority("priority", f.Priority); err != nil {
		return q, err
	}
	f.Tag = normalizeTag(f.Tag)
	if utf8.RuneCountInString(f.Query) > MaxQueryLen {
		return q, FieldErrorf("query", "query must be at most %d characters", MaxQueryLen)
	}
	for _, bound := range []struct {
		field string
		t     **time.Time
	}{{"due_before", &f.DueBefore}, {"due_after", &f.DueAfter}} {
		if *bound.t == nil {
			continue
		}
		t, err := checkTime(bound.field, **bound.t)
		if err != nil {
			return q, err
		}
		*bound.t = &t
	}
	return q, nil
}

// TaskPage is one page of a list.
type TaskPage struct {
	Tasks         []Task
	NextPageToken string // empty on the last page
	TotalSize     int    // tasks matching the filter across all pages; 0 unless IncludeTotal
}
