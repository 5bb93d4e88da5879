package service

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/example/tasks"
)

// memStore is a tasks.TaskStore in memory, so the handlers can be tested
// without a database. It keeps the contract with the domain's own rules
// (CheckUserID, the Normalize methods, TaskPatch.Apply, ParseUUID) and one
// mutex around its maps, and nothing a database adds: its page token is a
// plain offset, not bound to the user, filter and order as storage's are,
// its change cursor a plain number, and it never forgets a deletion.
type memStore struct {
	mu       sync.Mutex
	tasks    map[memKey]memRow
	requests map[memKey]string // (user, request id) → task id
	deleted  map[memKey]int64  // (user, task id) → the deletion's number
	seqs     map[string]int64  // each user's latest change number
	// committed, when set, hears of every change, as a hub would.
	committed func(tasks.Commit)
}

// memKey is an id within one user's tasks or request ids.
type memKey struct{ user, id string }

// memRow is a stored task, the count of its changes, which its etag
// spells, and the number of its latest change.
type memRow struct {
	task    tasks.Task
	version int
	seq     int64
}

var _ tasks.TaskStore = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{tasks: map[memKey]memRow{}, requests: map[memKey]string{}, deleted: map[memKey]int64{}, seqs: map[string]int64{}}
}

func memETag(version int) string { return "v" + strconv.Itoa(version) }

// enter checks what every method checks first, as storage does: the call
// is still wanted, and the user id is one a store can keep.
func enter(ctx context.Context, userID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return tasks.CheckUserID(userID)
}

// out returns a copy of a stored task that shares nothing mutable with it.
func (r memRow) out() tasks.Task {
	t := r.task
	t.Tags = slices.Clone(t.Tags)
	return t
}

func (s *memStore) CreateTask(ctx context.Context, userID string, nt tasks.NewTask) (tasks.Task, error) {
	if err := enter(ctx, userID); err != nil {
		return tasks.Task{}, err
	}
	nt, err := nt.Normalize()
	if err != nil {
		return tasks.Task{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if nt.RequestID != "" {
		// The task the first create made, or NotFound if it was deleted.
		if id, ok := s.requests[memKey{userID, nt.RequestID}]; ok {
			if row, ok := s.tasks[memKey{userID, id}]; ok {
				return row.out(), nil
			}
			return tasks.Task{}, tasks.ErrNotFound()
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return tasks.Task{}, tasks.WrapError(tasks.KindInternal, err, "cannot make an id")
	}
	now := tasks.RoundTime(time.Now())
	row := memRow{version: 1, task: tasks.Task{
		ID:          id.String(),
		Title:       nt.Title,
		Description: nt.Description,
		Priority:    nt.Priority,
		Tags:        nt.Tags,
		DueTime:     nt.DueTime,
		CreateTime:  now,
		UpdateTime:  now,
		ETag:        memETag(1),
	}}
	row.seq = s.next(userID)
	s.tasks[memKey{userID, row.task.ID}] = row
	if nt.RequestID != "" {
		s.requests[memKey{userID, nt.RequestID}] = row.task.ID
	}
	created := row.out()
	s.announce(userID, row.seq, tasks.TaskChange{Task: &created})
	return row.out(), nil
}

// next takes userID's next change number.
func (s *memStore) next(userID string) int64 {
	s.seqs[userID]++
	return s.seqs[userID]
}

// announce tells committed of a change, as storage's Listen does.
func (s *memStore) announce(userID string, seq int64, change tasks.TaskChange) {
	if s.committed != nil {
		s.committed(tasks.Commit{UserID: userID, Position: seq, Change: &change, Cursor: strconv.FormatInt(seq, 10)})
	}
}

// find returns the caller's task with id in any spelling ParseUUID
// accepts; an id that is not a UUID names no task.
func (s *memStore) find(userID, id string) (memKey, memRow, error) {
	id, ok := tasks.ParseUUID(id)
	if !ok {
		return memKey{}, memRow{}, tasks.ErrNotFound()
	}
	key := memKey{userID, id}
	row, ok := s.tasks[key]
	if !ok {
		return memKey{}, memRow{}, tasks.ErrNotFound()
	}
	return key, row, nil
}

func (s *memStore) GetTask(ctx context.Context, userID, id string) (tasks.Task, error) {
	if err := enter(ctx, userID); err != nil {
		return tasks.Task{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, row, err := s.find(userID, id)
	if err != nil {
		return tasks.Task{}, err
	}
	return row.out(), nil
}

func (s *memStore) UpdateTask(ctx context.Context, userID, id string, p tasks.TaskPatch) (tasks.Task, error) {
	if err := enter(ctx, userID); err != nil {
		return tasks.Task{}, err
	}
	p, err := p.Normalize()
	if err != nil {
		return tasks.Task{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, row, err := s.find(userID, id)
	if err != nil {
		return tasks.Task{}, err
	}
	if p.ETag != "" && p.ETag != row.task.ETag {
		return tasks.Task{}, tasks.ErrETagMismatch()
	}
	if next, changed := p.Apply(row.task, time.Now()); changed {
		row.version++
		next.ETag = memETag(row.version)
		row.task = next
		row.seq = s.next(userID)
		s.tasks[key] = row
		changed := row.out()
		s.announce(userID, row.seq, tasks.TaskChange{Task: &changed})
	}
	return row.out(), nil
}

func (s *memStore) DeleteTask(ctx context.Context, userID, id, etag string) error {
	if err := enter(ctx, userID); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key, row, err := s.find(userID, id)
	if err != nil {
		return err
	}
	if etag != "" && etag != row.task.ETag {
		return tasks.ErrETagMismatch()
	}
	delete(s.tasks, key)
	s.deleted[key] = s.next(userID)
	s.announce(userID, s.deleted[key], tasks.TaskChange{DeletedID: key.id})
	return nil
}

func (s *memStore) ListTasks(ctx context.Context, userID string, q tasks.ListQuery) (tasks.TaskPage, error) {
	if err := enter(ctx, userID); err != nil {
		return tasks.TaskPage{}, err
	}
	q, err := q.Normalize()
	if err != nil {
		return tasks.TaskPage{}, err
	}
	offset := 0
	if q.PageToken != "" {
		if offset, err = strconv.Atoi(q.PageToken); err != nil || offset <= 0 {
			return tasks.TaskPage{}, tasks.FieldErrorf("page_token", "invalid page token")
		}
	}
	s.mu.Lock()
	var all []tasks.Task
	for key, row := range s.tasks {
		if key.user == userID && memMatches(row.task, q.Filter) {
			all = append(all, row.out())
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b tasks.Task) int { return memCompare(q.Order, a, b) })
	var page tasks.TaskPage
	if q.IncludeTotal {
		page.TotalSize = len(all)
	}
	end := min(offset+q.PageSize, len(all))
	if offset < end {
		page.Tasks = all[offset:end]
	}
	if end < len(all) {
		page.NextPageToken = strconv.Itoa(end)
	}
	return page, nil
}

func (s *memStore) ListTaskChanges(ctx context.Context, userID string, q tasks.ChangeQuery) (tasks.ChangePage, error) {
	if err := enter(ctx, userID); err != nil {
		return tasks.ChangePage{}, err
	}
	q, err := q.Normalize()
	if err != nil {
		return tasks.ChangePage{}, err
	}
	var after int64
	if q.Cursor != "" {
		if after, err = strconv.ParseInt(q.Cursor, 10, 64); err != nil || after < 0 {
			return tasks.ChangePage{}, tasks.FieldErrorf("cursor", "invalid cursor")
		}
	}
	type change struct {
		seq int64
		c   tasks.TaskChange
	}
	s.mu.Lock()
	var all []change
	for key, row := range s.tasks {
		if key.user == userID && row.seq > after {
			t := row.out()
			all = append(all, change{row.seq, tasks.TaskChange{Task: &t}})
		}
	}
	for key, seq := range s.deleted {
		if key.user == userID && seq > after && q.Cursor != "" {
			all = append(all, change{seq, tasks.TaskChange{DeletedID: key.id}})
		}
	}
	latest := s.seqs[userID]
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b change) int { return cmp.Compare(a.seq, b.seq) })
	page := tasks.ChangePage{Position: latest}
	if len(all) > q.PageSize {
		all = all[:q.PageSize]
		page.HasMore = true
		page.Position = all[len(all)-1].seq
	}
	for _, c := range all {
		page.Changes = append(page.Changes, c.c)
	}
	page.NextCursor = strconv.FormatInt(page.Position, 10)
	return page, nil
}

func (s *memStore) ChangePositions(ctx context.Context, userIDs []string) (map[string]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int64, len(userIDs))
	for _, u := range userIDs {
		out[u] = s.seqs[u]
	}
	return out, nil
}

func (s *memStore) Ping(ctx context.Context) error { return ctx.Err() }

// memMatches reports whether t passes every filter that is set.
func memMatches(t tasks.Task, f tasks.TaskFilter) bool {
	containsFold := func(s string) bool { return strings.Contains(strings.ToLower(s), strings.ToLower(f.Query)) }
	switch {
	case f.Completed != nil && t.Completed != *f.Completed,
		f.Priority != tasks.PriorityUnspecified && t.Priority != f.Priority,
		f.Tag != "" && !slices.Contains(t.Tags, f.Tag),
		f.Query != "" && !containsFold(t.Title) && !containsFold(t.Description),
		f.DueBefore != nil && (t.DueTime == nil || !t.DueTime.Before(*f.DueBefore)),
		f.DueAfter != nil && (t.DueTime == nil || t.DueTime.Before(*f.DueAfter)):
		return false
	}
	return true
}

// memCompare orders tasks as tasks.TaskOrder documents, breaking the
// remaining ties by id in the direction of the order.
func memCompare(o tasks.TaskOrder, a, b tasks.Task) int {
	switch o {
	case tasks.OrderCreateTimeAsc:
		return cmp.Or(a.CreateTime.Compare(b.CreateTime), strings.Compare(a.ID, b.ID))
	case tasks.OrderUpdateTimeDesc:
		return cmp.Or(b.UpdateTime.Compare(a.UpdateTime), strings.Compare(b.ID, a.ID))
	case tasks.OrderDueTimeAsc:
		return cmp.Or(compareDue(a.DueTime, b.DueTime), strings.Compare(a.ID, b.ID))
	case tasks.OrderPriorityDesc:
		return cmp.Or(cmp.Compare(b.Priority, a.Priority), b.CreateTime.Compare(a.CreateTime), strings.Compare(b.ID, a.ID))
	case tasks.OrderTitleAsc:
		return cmp.Or(strings.Compare(a.Title, b.Title), strings.Compare(a.ID, b.ID))
	default: // OrderCreateTimeDesc, which Normalize makes of OrderUnspecified
		return cmp.Or(b.CreateTime.Compare(a.CreateTime), strings.Compare(b.ID, a.ID))
	}
}

// compareDue orders due times with no due time last.
func compareDue(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

// forget drops every task, request id and change, leaving the store as new:
// a fuzz target, making millions of calls, keeps it small with this.
func (s *memStore) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tasks, s.requests, s.deleted, s.seqs = map[memKey]memRow{}, map[memKey]string{}, map[memKey]int64{}, map[string]int64{}
}
