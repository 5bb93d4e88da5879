package service

import "time"

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

// Page sizes of ListTasks.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

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
}

// TaskPage is one page of a list.
type TaskPage struct {
	Tasks         []Task
	NextPageToken string // empty on the last page
	TotalSize     int    // tasks matching the filter across all pages
}
