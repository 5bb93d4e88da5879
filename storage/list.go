package storage

import (
	"context"
	"database/sql"
	"strings"

	"github.com/uptrace/bun"

	"github.com/example/tasks"
)

// listFilter is a normalized tasks.TaskFilter with the query lower-cased
// (the SQL lower-cases what it searches) and due times in microseconds.
// Its JSON form binds page tokens to the filter, so its fields must not
// change meaning.
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

// filterOf returns the form of a normalized filter that queries and page
// tokens use.
func filterOf(f tasks.TaskFilter) listFilter {
	out := listFilter{
		Completed: f.Completed,
		Priority:  int16(f.Priority),
		Tag:       f.Tag,
		Query:     strings.ToLower(f.Query),
	}
	if f.DueBefore != nil {
		us := f.DueBefore.UnixMicro()
		out.DueBefore, out.DueBeforeUS = someTime(*f.DueBefore), &us
	}
	if f.DueAfter != nil {
		us := f.DueAfter.UnixMicro()
		out.DueAfter, out.DueAfterUS = someTime(*f.DueAfter), &us
	}
	return out
}

// matchesNothing reports whether no task can match: text in the database
// never holds NUL.
func (f listFilter) matchesNothing() bool {
	return strings.ContainsRune(f.Tag, 0) || strings.ContainsRune(f.Query, 0)
}

// where adds the user and the filter to q, its values as p's parameters.
// Every list query leads with user_id, which every index of the tasks
// table leads with too, so no plan needs to look at other users' rows.
func (s *Store) where(q *bun.SelectQuery, p *params, userID string, f listFilter) *bun.SelectQuery {
	q = q.Where("t.user_id = ?", p.arg(userID))
	if f.Completed != nil {
		q = q.Where("t.completed = ?", p.arg(*f.Completed))
	}
	if f.Priority != 0 {
		q = q.Where("t.priority = ?", p.arg(f.Priority))
	}
	if f.Tag != "" {
		q = q.Where(s.dialect.hasTag(), p.arg(f.Tag))
	}
	if f.Query != "" {
		q = q.Where(s.dialect.containsText(), p.arg(f.Query))
	}
	if f.DueBefore.Valid {
		q = q.Where("t.due_time < ?", p.arg(f.DueBefore))
	}
	if f.DueAfter.Valid {
		q = q.Where("t.due_time >= ?", p.arg(f.DueAfter))
	}
	return q
}

// order is how one TaskOrder sorts and continues after a cursor.
type order struct {
	by     string // ORDER BY
	keyset string // rows after the cursor, with placeholders for after's args
	after  func(c cursor) []any
	cursor func(r taskRow) cursor
}

func (s *Store) order(o tasks.TaskOrder) (order, bool) {
	switch o {
	case tasks.OrderUnspecified, tasks.OrderCreateTimeDesc:
		return order{
			by:     "t.create_time DESC, t.id DESC",
			keyset: "(t.create_time, t.id) < (?, ?)",
			after:  func(c cursor) []any { return []any{c.time(), c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Time: r.CreateTime.T.UnixMicro(), ID: r.ID} },
		}, true
	case tasks.OrderCreateTimeAsc:
		return order{
			by:     "t.create_time ASC, t.id ASC",
			keyset: "(t.create_time, t.id) > (?, ?)",
			after:  func(c cursor) []any { return []any{c.time(), c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Time: r.CreateTime.T.UnixMicro(), ID: r.ID} },
		}, true
	case tasks.OrderUpdateTimeDesc:
		return order{
			by:     "t.update_time DESC, t.id DESC",
			keyset: "(t.update_time, t.id) < (?, ?)",
			after:  func(c cursor) []any { return []any{c.time(), c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Time: r.UpdateTime.T.UnixMicro(), ID: r.ID} },
		}, true
	case tasks.OrderDueTimeAsc:
		return order{
			by:     s.dialect.dueKey() + " ASC, t.id ASC",
			keyset: "(" + s.dialect.dueKey() + ", t.id) > (?, ?)",
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
	case tasks.OrderPriorityDesc:
		return order{
			by:     "t.priority DESC, t.create_time DESC, t.id DESC",
			keyset: "(t.priority, t.create_time, t.id) < (?, ?, ?)",
			after:  func(c cursor) []any { return []any{c.Priority, c.time(), c.ID} },
			cursor: func(r taskRow) cursor {
				return cursor{Priority: r.Priority, Time: r.CreateTime.T.UnixMicro(), ID: r.ID}
			},
		}, true
	case tasks.OrderTitleAsc:
		return order{
			by:     "t.title ASC, t.id ASC",
			keyset: "(t.title, t.id) > (?, ?)",
			after:  func(c cursor) []any { return []any{c.Title, c.ID} },
			cursor: func(r taskRow) cursor { return cursor{Title: r.Title, ID: r.ID} },
		}, true
	}
	return order{}, false
}

// pageQuery selects up to limit of the user's tasks matching f in order o
// (taskColumns), after the cursor when there is one: keyset pagination, so
// a page deep in the list costs what the first does. With total, each row
// also carries the count of all matching tasks (an uncorrelated subquery,
// computed once), so a page and its total_size come from one statement and
// one snapshot. Its values are p's parameters.
func (s *Store) pageQuery(p *params, userID string, f listFilter, o order, after *cursor, limit int, total bool) *bun.SelectQuery {
	q := s.where(s.reader.NewSelect().TableExpr("tasks AS t").ColumnExpr(s.reads.columns), p, userID, f)
	if total {
		q = q.ColumnExpr("(?) AS total", s.countQuery(p, userID, f))
	}
	if after != nil {
		q = q.Where(o.keyset, p.argList(o.after(*after))...)
	}
	return q.OrderExpr(o.by).Limit(limit)
}

// countQuery counts the user's tasks matching f.
func (s *Store) countQuery(p *params, userID string, f listFilter) *bun.SelectQuery {
	return s.where(s.reader.NewSelect().TableExpr("tasks AS t").ColumnExpr("count(*) AS total"), p, userID, f)
}

// ListTasks returns one page of the user's tasks.
func (s *Store) ListTasks(ctx context.Context, userID string, lq tasks.ListQuery) (tasks.TaskPage, error) {
	if err := tasks.CheckUserID(userID); err != nil {
		return tasks.TaskPage{}, err
	}
	lq, err := lq.Normalize()
	if err != nil {
		return tasks.TaskPage{}, err
	}
	o, ok := s.order(lq.Order)
	if !ok { // Normalize let through an order this store has no query for
		return tasks.TaskPage{}, tasks.Errorf(tasks.KindInternal, "no query for order %d", lq.Order)
	}
	f := filterOf(lq.Filter)
	key, err := s.pageKey(ctx)
	if err != nil {
		return tasks.TaskPage{}, err
	}
	bind := tokenBinding{userID: userID, filter: f, order: lq.Order}
	var after *cursor
	if lq.PageToken != "" {
		c, err := key.open(lq.PageToken, bind)
		if err != nil {
			return tasks.TaskPage{}, err
		}
		after = &c
	}
	if f.matchesNothing() {
		return tasks.TaskPage{}, nil
	}
	size := lq.PageSize
	var rows []taskRow
	var page tasks.TaskPage
	p := params{d: s.dialect}
	q := s.pageQuery(&p, userID, f, o, after, size+1, lq.IncludeTotal)
	err = s.read(ctx, q.String(), p.args, func(rs *sql.Rows) error {
		for rs.Next() {
			var r taskRow
			var extra []any
			if lq.IncludeTotal {
				extra = []any{&page.TotalSize}
			}
			if err := r.scan(rs, extra...); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return nil
	})
	if err != nil {
		return tasks.TaskPage{}, err
	}
	if lq.IncludeTotal && len(rows) == 0 && after != nil {
		// A page past the end (its tasks were deleted since the token
		// was made) has no row to carry the count.
		p := params{d: s.dialect}
		q := s.countQuery(&p, userID, f)
		err := s.read(ctx, q.String(), p.args, func(rs *sql.Rows) error {
			if rs.Next() {
				return rs.Scan(&page.TotalSize)
			}
			return nil
		})
		if err != nil {
			return tasks.TaskPage{}, err
		}
	}
	if len(rows) > size {
		rows = rows[:size]
		page.NextPageToken = key.seal(o.cursor(rows[size-1]), bind)
	}
	page.Tasks = make([]tasks.Task, len(rows))
	for i, r := range rows {
		page.Tasks[i] = r.task()
	}
	return page, nil
}
