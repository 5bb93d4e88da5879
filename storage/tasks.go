package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/example/tasks"
)

// CreateTask stores a new task, or returns the task an earlier create of the
// user with the same RequestID stored (NotFound if it has been deleted since,
// while its deletion is remembered). Two creates racing with one request id
// store one row: the unique (user_id, request_id) index decides, and the
// loser reads the winner's task. A user with MaxTasksPerUser tasks gets
// QuotaExceeded, unless the request id is one of theirs: a retry is
// answered as before.
func (s *Store) CreateTask(ctx context.Context, userID string, nt tasks.NewTask) (tasks.Task, error) {
	if err := tasks.CheckUserID(userID); err != nil {
		return tasks.Task{}, err
	}
	nt, err := nt.Normalize()
	if err != nil {
		return tasks.Task{}, err
	}
	row, err := newRow(userID, nt)
	if err != nil {
		return tasks.Task{}, err
	}
	row.stamped(time.Now())
	if w := s.dialect.writes(); w != nil {
		// The common case, a new task, in one round trip: the next number
		// of the user's sequence and the row (see tasks_create).
		seq, stored, err := s.writeOne(ctx, w.create, paramValues(s.dialect, row.createArgs(s.cfg.MaxTasksPerUser)))
		if err != nil {
			return tasks.Task{}, err
		}
		if stored {
			row.ChangeSeq = seq
			t := row.task()
			s.committed(userID, row.ChangeSeq, tasks.TaskChange{Task: &t})
			return t, nil
		}
		// Not stored: a create with the same request id came first, or
		// deleted what it created, or the user is at the limit.
	}
	return s.createLocked(ctx, &row)
}

// createArgs are the arguments of oneCallWrites.create: the row's values
// and the limit of the user's tasks.
func (r *taskRow) createArgs(maxTasks int) []any {
	return []any{r.UserID, r.ID, r.Title, r.Description, r.Completed, r.Priority, r.Tags,
		r.DueTime, r.CreateTime, r.UpdateTime, r.CompleteTime, r.Version, r.RequestID, maxTasks}
}

// createLocked is CreateTask as one transaction (SQLite's create, and
// PostgreSQL's when its one call stored nothing): it returns the task
// stored with the same request id, NotFound when that task has been
// deleted, and otherwise stores the new one with the user's next number,
// if the user has room for it (QuotaExceeded if not).
func (s *Store) createLocked(ctx context.Context, row *taskRow) (tasks.Task, error) {
	var out taskRow
	var seq int64
	err := s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
		seq = 0
		if row.RequestID != nil {
			err := tx.NewSelect().Model(&out).ColumnExpr(s.reads.columns).Where("t.user_id = ? AND t.request_id = ?", row.UserID, *row.RequestID).Scan(ctx)
			if !errors.Is(err, sql.ErrNoRows) {
				return err // found it, or failed
			}
			deleted, err := tx.NewSelect().Model((*tombstoneRow)(nil)).
				Where("d.user_id = ? AND d.request_id = ?", row.UserID, *row.RequestID).Exists(ctx)
			switch {
			case err != nil:
				return err
			case deleted:
				return tasks.ErrNotFound()
			}
		}
		var room bool
		var err error
		seq, room, err = takeSeq(ctx, tx, createSeqSQL, row.UserID, s.cfg.MaxTasksPerUser)
		switch {
		case err != nil:
			return err
		case !room:
			return tasks.ErrQuotaExceeded(s.cfg.MaxTasksPerUser)
		}
		out = *row.stamped(time.Now())
		out.ChangeSeq = seq
		res, err := tx.NewInsert().Model(&out).On("CONFLICT (user_id, request_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, errRetry) // another create got there in between
		}
		return nil
	})
	if err != nil {
		return tasks.Task{}, err
	}
	t := out.task()
	if seq != 0 {
		s.committed(out.UserID, seq, tasks.TaskChange{Task: &t})
	}
	return t, nil
}

// newRow makes the row of a normalized new task, without its times.
func newRow(userID string, nt tasks.NewTask) (taskRow, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return taskRow{}, tasks.WrapError(tasks.KindInternal, err, "cannot make an id")
	}
	var requestID *string
	if nt.RequestID != "" {
		requestID = &nt.RequestID
	}
	return taskRow{
		UserID:      userID,
		ID:          id.String(),
		Title:       nt.Title,
		Description: nt.Description,
		Priority:    int16(nt.Priority),
		Tags:        tagList(nt.Tags),
		DueTime:     timeOrNull(nt.DueTime),
		Version:     1,
		RequestID:   requestID,
	}, nil
}

// stamped sets r's create and update times to now and returns r.
func (r *taskRow) stamped(now time.Time) *taskRow {
	r.CreateTime = someTime(now)
	r.UpdateTime = r.CreateTime
	return r
}

// GetTask returns one of the user's tasks.
func (s *Store) GetTask(ctx context.Context, userID, id string) (tasks.Task, error) {
	if err := tasks.CheckUserID(userID); err != nil {
		return tasks.Task{}, err
	}
	id, ok := tasks.ParseUUID(id)
	if !ok {
		return tasks.Task{}, tasks.ErrNotFound()
	}
	row, err := s.getRow(ctx, userID, id)
	if err != nil {
		return tasks.Task{}, err
	}
	return row.task(), nil
}

// getRow reads the row of one of the user's tasks, by a parsed id:
// NotFound when there is none.
func (s *Store) getRow(ctx context.Context, userID, id string) (taskRow, error) {
	var row taskRow
	found := false
	err := s.read(ctx, s.reads.get, []any{userID, id}, func(rows *sql.Rows) error {
		if !rows.Next() {
			return nil
		}
		found = true
		return row.scan(rows)
	})
	if err == nil && !found {
		err = tasks.ErrNotFound()
	}
	return row, err
}

// UpdateTask applies a patch; concurrent updates apply one after the
// other and none is lost. Where a write is one statement (PostgreSQL) it
// reads the task and writes it back only if no other write came in between
// (updateOneCall), and otherwise, as on SQLite, locks the rows it changes
// (updateLocked). A patch that changes no value writes nothing and returns
// the task as it is, etag and update_time unchanged.
func (s *Store) UpdateTask(ctx context.Context, userID, id string, p tasks.TaskPatch) (tasks.Task, error) {
	if err := tasks.CheckUserID(userID); err != nil {
		return tasks.Task{}, err
	}
	id, ok := tasks.ParseUUID(id)
	if !ok {
		return tasks.Task{}, tasks.ErrNotFound()
	}
	p, err := p.Normalize()
	if err != nil {
		return tasks.Task{}, err
	}
	if w := s.dialect.writes(); w != nil {
		t, done, err := s.updateOneCall(ctx, w, userID, id, p)
		if done || err != nil {
			return t, err
		}
		// Another write came in between: take the locks instead.
	}
	return s.updateLocked(ctx, userID, id, p)
}

// updateLocked is UpdateTask as one transaction that locks the user's row
// and then the task's (the order every write takes them in; see
// writes_postgres.go), so concurrent updates apply one after the other and
// none is lost.
func (s *Store) updateLocked(ctx context.Context, userID, id string, p tasks.TaskPatch) (tasks.Task, error) {
	var out taskRow
	var changedFrom int64 // the number the task had before, to tell whether it took a new one
	err := s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := s.dialect.lockRow(tx.NewSelect().TableExpr("users AS u").ColumnExpr("1").
			Where("u.user_id = ?", userID)).Exec(ctx); err != nil {
			return err
		}
		var cur taskRow
		err := s.dialect.lockRow(tx.NewSelect().Model(&cur).ColumnExpr(s.reads.columns).Where("t.user_id = ? AND t.id = ?", userID, id)).Scan(ctx)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return tasks.ErrNotFound()
		case err != nil:
			return err
		case p.ETag != "" && p.ETag != etag(cur.Version):
			return tasks.ErrETagMismatch()
		}
		changedFrom = cur.ChangeSeq
		next, changed := p.Apply(cur.task(), time.Now())
		if !changed {
			out = cur
			return nil
		}
		row := cur.withValues(next)
		row.Version++
		if row.ChangeSeq, err = nextSeq(ctx, tx, userID); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model(&row).
			Column("title", "description", "completed", "priority", "tags",
				"due_time", "update_time", "complete_time", "version", "change_seq").
			Where("t.user_id = ? AND t.id = ? AND t.version = ?", userID, id, cur.Version).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.Join(err, errRetry)
		}
		out = row
		return nil
	})
	if err != nil {
		return tasks.Task{}, err
	}
	t := out.task()
	if out.ChangeSeq != changedFrom {
		s.committed(userID, out.ChangeSeq, tasks.TaskChange{Task: &t})
	}
	return t, nil
}

// updateOneCall is UpdateTask where a write is one statement: read the
// task, apply the patch, and write it back if its version is still the one
// read. Two round trips, and no transaction held open while the patch is
// applied. done is false when another write changed the task in between.
func (s *Store) updateOneCall(ctx context.Context, w *oneCallWrites, userID, id string, p tasks.TaskPatch) (t tasks.Task, done bool, err error) {
	cur, err := s.getRow(ctx, userID, id)
	switch {
	case err != nil:
		return tasks.Task{}, true, err
	case p.ETag != "" && p.ETag != etag(cur.Version):
		return tasks.Task{}, true, tasks.ErrETagMismatch()
	}
	next, changed := p.Apply(cur.task(), time.Now())
	if !changed {
		return cur.task(), true, nil
	}
	row := cur.withValues(next)
	row.Version++
	seq, ok, err := s.writeOne(ctx, w.update, paramValues(s.dialect, row.updateArgs(cur.Version)))
	if err != nil || !ok {
		return tasks.Task{}, false, err
	}
	row.ChangeSeq = seq
	t = row.task()
	s.committed(userID, seq, tasks.TaskChange{Task: &t})
	return t, true, nil
}

// DeleteTask removes one of the user's tasks; with an etag, only while it
// is the current one. The deletion takes the user's next number and leaves
// a tombstone, remembered for the change retention.
func (s *Store) DeleteTask(ctx context.Context, userID, id, etagWant string) error {
	if err := tasks.CheckUserID(userID); err != nil {
		return err
	}
	id, ok := tasks.ParseUUID(id)
	if !ok {
		return tasks.ErrNotFound()
	}
	if w := s.dialect.writes(); w != nil {
		return s.deleteOneCall(ctx, w, userID, id, etagWant)
	}
	var seq int64
	err := s.run(ctx, writeTx, func(ctx context.Context, tx bun.Tx) error {
		seq = 0
		var gone []taskRow
		q := tx.NewDelete().Model(&gone).Where("t.user_id = ? AND t.id = ?", userID, id).Returning("request_id")
		if etagWant != "" {
			version, ok := parseETag(etagWant)
			if !ok {
				version = 0 // matches no row
			}
			q = q.Where("t.version = ?", version)
		}
		if err := q.Scan(ctx); err != nil {
			return err
		}
		if len(gone) == 1 {
			var err error
			if seq, _, err = takeSeq(ctx, tx, deleteSeqSQL, userID); err != nil {
				return err
			}
			_, err = tx.NewInsert().Model(&tombstoneRow{
				UserID:     userID,
				ID:         id,
				ChangeSeq:  seq,
				RequestID:  gone[0].RequestID,
				DeleteTime: someTime(time.Now()),
			}).Exec(ctx)
			return err
		}
		if etagWant == "" {
			return tasks.ErrNotFound()
		}
		exists, err := tx.NewSelect().Model((*taskRow)(nil)).
			Where("t.user_id = ? AND t.id = ?", userID, id).Exists(ctx)
		switch {
		case err != nil:
			return err
		case exists:
			return tasks.ErrETagMismatch()
		}
		return tasks.ErrNotFound()
	})
	if err == nil {
		s.committed(userID, seq, tasks.TaskChange{DeletedID: id})
	}
	return err
}

// deleteOneCall is DeleteTask where a write is one statement. When it
// deleted nothing, a read tells NotFound from an etag that no longer
// matches.
func (s *Store) deleteOneCall(ctx context.Context, w *oneCallWrites, userID, id, etagWant string) error {
	var version int64 // 0: any
	if etagWant != "" {
		var ok bool
		if version, ok = parseETag(etagWant); !ok || version == 0 {
			version = -1 // matches no row
		}
	}
	seq, ok, err := s.writeOne(ctx, w.delete, paramValues(s.dialect, []any{userID, id, version, someTime(time.Now())}))
	switch {
	case err != nil:
		return err
	case ok:
		s.committed(userID, seq, tasks.TaskChange{DeletedID: id})
		return nil
	case etagWant == "":
		return tasks.ErrNotFound()
	}
	if _, err := s.getRow(ctx, userID, id); err != nil {
		return err // NotFound, or failed
	}
	return tasks.ErrETagMismatch()
}
