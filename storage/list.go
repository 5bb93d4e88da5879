package storage

import (
	"context"
	"strings"

	"github.com/uptrace/bun"

	"github.com/example/tasks/service"
)

// listFilter is a checked service.TaskFilter: the tag and query
// lower-cased, due times in microseconds. Its JSON form binds page tokens to
// the filter, so its fields must not change meaning.
type listFilter struct {
	Completed *bool  `json:"c,omitempty"`
	Priority  int16  `json:"p,omitempty"`
	Tag       string `json:"g,omitempty"`
	Query     string `json:"q,omitempty"`
	DueBefore dbTime `json:"-"`
	DueAfter  dbTime `json:"-"`
	// The due times again, as the token sees them.
	DueBeforeUS *int64 `json:"b,omitempty"`
	DueAfterUS  *int64 `json:"a,omitempty"`
}

func checkFilter(f service.TaskFilter) (listFilter, error) {
	out := listFilter{
		Completed: f.Completed,
		Priority:  int16(f.Priority),
		Tag:       service.NormalizeTag(f.Tag),
		Query:     strings.ToLower(f.Query),
	}
	if err := checkPriority(f.Priority); err != nil {
		return out, err
	}
	if f.DueBefore != nil {
		t, err := checkTime("due_before", *f.DueBefore)
		if err != nil {
			return out, err
		}
		us := t.T.UnixMicro()
		out.DueBefore, out.DueBeforeUS = t, &us
	}
	if f.DueAfter != nil {
		t, err := checkTime("due_after", *f.DueAfter)
		if err != nil {
			return out, err
		}
		us := t.T.UnixMicro()
		out.DueAfter, out.DueAfterUS = t, &us
	}
	return out, nil
}

// matchesNothing reports whether no task can match: text in the database
// never holds NUL.
func (f listFilter) matchesNothing() bool {
	return strings.ContainsRune(f.Tag, 0) || strings.ContainsRune(f.Query, 0)
}

// where adds the user and the filter to q. Every list query leads with
// user_id, which every index of the tasks table leads with too, so no plan
// needs to look at other users' rows.
func (s *Store) where(q *bun.SelectQuery, userID string, f listFilter) *bun.SelectQuery {
	q = q.Where("t.user_id = ?", userID)
	if f.Completed != nil {
		q = q.Where("t.completed = ?", *f.Completed)
	}
	if f.Priority != 0 {
		q = q.Where("t.priority = ?", f.Priority)
	}
	if f.Tag != "" {
		if s.postgres {
			q = q.Where("? = ANY(t.tags)", f.Tag)
		} else {
			q = q.Where("EXISTS (SELECT 1 FROM json_each(t.tags) WHERE json_each.value = ?)", f.Tag)
		}
	}
	if f.Query != "" {
		// A position search, not LIKE: the query is literal, %, _ and \
		// included, with nothing to escape.
		if s.postgres {
			q = q.Where("(strpos(lower(t.title), ?0) > 0 OR strpos(lower(t.description), ?0) > 0)", f.Query)
		} else {
			q = q.Where("(instr("+sqliteLower+"(t.title), ?0) > 0 OR instr("+sqliteLower+"(t.description), ?0) > 0)", f.Query)
		}
	}
	if f.DueBefore.Valid {
		q = q.Where("t.due_time < ?", f.DueBefore)
	}
	if f.DueAfter.Valid {
		q = q.Where("t.due_time >= ?", f.DueAfter)
	}
	return q
}

// dueKey is the sort key of DUE_TIME_ASC: the due time, with tasks without
// one last. The indexes on due time are on this same expression.
func (s *Store) dueKey() string {
	if s.postgres {
		return "COALESCE(t.due_time, 'infinity'::timestamptz)"
	}
	return "COALESCE(t.due_time, 9223372036854775807)"
}

// order is how one TaskOrder sorts and continues after a cursor.
type order struct {
	by     string // ORDER BY
	keyset string // rows after the cursor, with placeholders for after's args
	after  func(c cursor) []any
	cursor func(r taskRow) cursor
}

func (s *Store) order(o service.TaskOrder) (order, bool) {
	switch o {
	case service.OrderUnspecified, service.OrderCreateTimeDesc:
		return order{
			by:     "t.create_time DESC, t.id DESC",
			keyset: "(t.create_time, t.id) < (?, ?)",
			after:  func(c cursor) []any { return []any{c.time(), c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Time: r.CreateTime.T.UnixMicro(), ID: r.ID} },
		}, true
	case service.OrderCreateTimeAsc:
		return order{
			by:     "t.create_time ASC, t.id ASC",
			keyset: "(t.create_time, t.id) > (?, ?)",
			after:  func(c cursor) []any { return []any{c.time(), c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Time: r.CreateTime.T.UnixMicro(), ID: r.ID} },
		}, true
	case service.OrderUpdateTimeDesc:
		return order{
			by:     "t.update_time DESC, t.id DESC",
			keyset: "(t.update_time, t.id) < (?, ?)",
			after:  func(c cursor) []any { return []any{c.time(), c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Time: r.UpdateTime.T.UnixMicro(), ID: r.ID} },
		}, true
	case service.OrderDueTimeAsc:
		return order{
			by:     s.dueKey() + " ASC, t.id ASC",
			keyset: "(" + s.dueKey() + ", t.id) > (?, ?)",
			after: func(c cursor) []any {
				if c.NoDue {
					return []any{infinity{}, c.ID}
				}
				return []any{c.time(), c.ID}
			},
			cursor: func(r taskRow) cursor {
				if !r.DueTime.Valid {
					return cursor{NoDue: true, ID: r.ID}
				}
				return cursor{Time: r.DueTime.T.UnixMicro(), ID: r.ID}
			},
		}, true
	case service.OrderPriorityDesc:
		return order{
			by:     "t.priority DESC, t.create_time DESC, t.id DESC",
			keyset: "(t.priority, t.create_time, t.id) < (?, ?, ?)",
			after:  func(c cursor) []any { return []any{c.Priority, c.time(), c.ID} },
			cursor: func(r taskRow) cursor {
				return cursor{Priority: r.Priority, Time: r.CreateTime.T.UnixMicro(), ID: r.ID}
			},
		}, true
	case service.OrderTitleAsc:
		return order{
			by:     "t.title ASC, t.id ASC",
			keyset: "(t.title, t.id) > (?, ?)",
			after:  func(c cursor) []any { return []any{c.Title, c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Title: r.Title, ID: r.ID} },
		}, true
	}
	return order{}, false
}

// listRow is a task of a page, with the total_size of the list.
type listRow struct {
	taskRow `bun:",extend"`

	Total int `bun:"total,scanonly"`
}

// pageQuery selects up to limit of the user's tasks matching f in order o,
// after the cursor when there is one: keyset pagination, so a page deep in
// the list costs what the first does. Each row carries the count of all
// matching tasks (an uncorrelated subquery, computed once), so a page and
// its total_size come from one statement and one snapshot.
func (s *Store) pageQuery(db bun.IDB, rows *[]listRow, userID string, f listFilter, o order, after *cursor, limit int) *bun.SelectQuery {
	q := s.where(db.NewSelect().Model(rows), userID, f).
		ColumnExpr("t.*").
		ColumnExpr("(?) AS total", s.countQuery(db, userID, f))
	if after != nil {
		q = q.Where(o.keyset, o.after(*after)...)
	}
	return q.OrderExpr(o.by).Limit(limit)
}

// countQuery counts the user's tasks matching f.
func (s *Store) countQuery(db bun.IDB, userID string, f listFilter) *bun.SelectQuery {
	return s.where(db.NewSelect().Model((*taskRow)(nil)).ColumnExpr("count(*) AS total"), userID, f)
}

// ListTasks returns one page of the user's tasks.
func (s *Store) ListTasks(ctx context.Context, userID string, lq service.ListQuery) (service.TaskPage, error) {
	if err := checkUser(userID); err != nil {
		return service.TaskPage{}, err
	}
	size := lq.PageSize
	switch {
	case size < 0:
		return service.TaskPage{}, invalid("page_size must not be negative")
	case size == 0:
		size = service.DefaultPageSize
	case size > service.MaxPageSize:
		size = service.MaxPageSize
	}
	if lq.Order == service.OrderUnspecified {
		lq.Order = service.OrderCreateTimeDesc
	}
	o, ok := s.order(lq.Order)
	if !ok {
		return service.TaskPage{}, invalid("order_by %d is not a defined value", lq.Order)
	}
	f, err := checkFilter(lq.Filter)
	if err != nil {
		return service.TaskPage{}, err
	}
	key, err := s.pageKey(ctx)
	if err != nil {
		return service.TaskPage{}, err
	}
	bind := tokenBinding{userID: userID, filter: f, order: lq.Order}
	var after *cursor
	if lq.PageToken != "" {
		c, err := key.open(lq.PageToken, bind)
		if err != nil {
			return service.TaskPage{}, err
		}
		after = &c
	}
	if f.matchesNothing() {
		return service.TaskPage{}, nil
	}
	var rows []listRow
	if err := s.query(ctx, s.pageQuery(s.reader, &rows, userID, f, o, after, size+1), &rows); err != nil {
		return service.TaskPage{}, err
	}
	var page service.TaskPage
	switch {
	case len(rows) > 0:
		page.TotalSize = rows[0].Total
	case after != nil:
		// A page past the end (its tasks were deleted since the token
		// was made) has no row to carry the count.
		var counts []int
		if err := s.query(ctx, s.countQuery(s.reader, userID, f), &counts); err != nil {
			return service.TaskPage{}, err
		}
		page.TotalSize = counts[0]
	}
	if len(rows) > size {
		rows = rows[:size]
		page.NextPageToken = key.seal(o.cursor(rows[size-1].taskRow), bind)
	}
	page.Tasks = make([]service.Task, len(rows))
	for i, r := range rows {
		page.Tasks[i] = r.task()
	}
	return page, nil
}
