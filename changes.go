package tasks

import "time"

// TaskChange is one entry of a user's change history: a task as it is after
// its latest change, or the id of a task that was deleted.
type TaskChange struct {
	Task      *Task  // nil for a deletion
	DeletedID string // the deleted task's id; empty when Task is set
}

// Page sizes of ListTaskChanges.
const (
	DefaultChangePageSize = 100
	MaxChangePageSize     = 1000
)

// ChangeRetention is how long a store remembers deletions by default: a
// cursor older than the oldest deletion still remembered has expired.
const ChangeRetention = 30 * 24 * time.Hour

// ChangeQuery asks for the changes to a user's tasks after a cursor.
type ChangeQuery struct {
	// Cursor is empty for a full sync (every task, no deletions), or a
	// ChangePage.NextCursor the store issued to the same user.
	Cursor   string
	PageSize int // 0 means DefaultChangePageSize; above MaxChangePageSize means MaxChangePageSize
}

// Normalize checks q and fills in the default page size. A negative page
// size is Invalid; the cursor is the store's to check.
func (q ChangeQuery) Normalize() (ChangeQuery, error) {
	var err error
	q.PageSize, err = pageSize(q.PageSize, DefaultChangePageSize, MaxChangePageSize)
	return q, err
}

// ChangePage is one page of changes, oldest first. Applying the pages in
// order to a copy of the user's tasks taken at the query's cursor gives
// exactly their tasks as of NextCursor.
type ChangePage struct {
	Changes    []TaskChange
	NextCursor string // where the next page continues; never empty
	HasMore    bool   // more changes follow NextCursor already
	// Position is NextCursor's place in the user's change sequence: every
	// write to a user's tasks takes the next number of it, in commit order,
	// and NextCursor covers the changes numbered up to Position. Watchers
	// compare it with the numbers commits announce.
	Position int64
}

// Commit is a write to a user's tasks as it committed: its number in the
// user's change sequence and, when the writer knows them, the change and
// the cursor just after it, so that a watch one change behind can be sent
// the change without reading it back.
type Commit struct {
	UserID   string
	Position int64
	Change   *TaskChange // nil when only the position is known (another replica's write)
	Cursor   string      // with Change: the cursor that covers it
}
