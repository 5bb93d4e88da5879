package storage

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/schema"

	"github.com/example/tasks"
)

// taskRow is a row of the tasks table.
type taskRow struct {
	bun.BaseModel `bun:"table:tasks,alias:t"`

	UserID       string  `bun:"user_id,pk"`
	ID           string  `bun:"id,pk"`
	Title        string  `bun:"title"`
	Description  string  `bun:"description"`
	Completed    bool    `bun:"completed"`
	Priority     int16   `bun:"priority"`
	Tags         tagList `bun:"tags"`
	DueTime      dbTime  `bun:"due_time"`
	CreateTime   dbTime  `bun:"create_time"`
	UpdateTime   dbTime  `bun:"update_time"`
	CompleteTime dbTime  `bun:"complete_time"`
	// Version counts the changes of the row's values; the etag is derived
	// from it.
	Version   int64   `bun:"version"`
	RequestID *string `bun:"request_id"`
	// ChangeSeq is the number of the row's latest change in its user's
	// change sequence (users.change_seq).
	ChangeSeq int64 `bun:"change_seq"`
}

// taskColumns are taskRow's columns, in the order scan reads them, as d
// selects them.
func taskColumns(d dialect) string {
	return "t.user_id, t.id, t.title, t.description, t.completed, t.priority, t.tags, " +
		timeColumns(d) + ", t.version, t.request_id, t.change_seq"
}

// timeColumns are a task's four times, as d selects them.
func timeColumns(d dialect) string {
	return d.selectTime("t.due_time") + ", " + d.selectTime("t.create_time") + ", " +
		d.selectTime("t.update_time") + ", " + d.selectTime("t.complete_time")
}

// readSQL are the statements that read tasks, in a dialect's words: the
// same text every time, so each is prepared once.
type readSQL struct {
	columns  string // taskColumns
	get      string // one task: user $1, id $2
	changes  string // see changesQuery
	fullSync string
}

func newReadSQL(d dialect) readSQL {
	return readSQL{
		columns:  taskColumns(d),
		get:      "SELECT " + taskColumns(d) + " FROM tasks AS t WHERE t.user_id = $1 AND t.id = $2",
		changes:  changesQuery(d, true),
		fullSync: changesQuery(d, false),
	}
}

// scan reads the current row of rows, selected as taskColumns followed by
// extra's columns, into r and extra: no reflection over the row's struct.
func (r *taskRow) scan(rows *sql.Rows, extra ...any) error {
	dest := [16]any{&r.UserID, &r.ID, &r.Title, &r.Description, &r.Completed, &r.Priority, &r.Tags,
		&r.DueTime, &r.CreateTime, &r.UpdateTime, &r.CompleteTime, &r.Version, &r.RequestID, &r.ChangeSeq}
	n := 14 + copy([]any(dest[14:]), extra)
	return rows.Scan(dest[:n]...)
}

// tombstoneRow is a row of task_tombstones: a deleted task, remembered for
// the change retention.
type tombstoneRow struct {
	bun.BaseModel `bun:"table:task_tombstones,alias:d"`

	UserID     string  `bun:"user_id,pk"`
	ID         string  `bun:"id,pk"`
	ChangeSeq  int64   `bun:"change_seq"`
	RequestID  *string `bun:"request_id"`
	DeleteTime dbTime  `bun:"delete_time"`
}

func (r taskRow) task() tasks.Task {
	return tasks.Task{
		ID:           r.ID,
		Title:        r.Title,
		Description:  r.Description,
		Completed:    r.Completed,
		Priority:     tasks.Priority(r.Priority),
		Tags:         r.Tags.slice(),
		DueTime:      r.DueTime.ptr(),
		CreateTime:   r.CreateTime.T,
		UpdateTime:   r.UpdateTime.T,
		CompleteTime: r.CompleteTime.ptr(),
		ETag:         etag(r.Version),
	}
}

// withValues returns r with the values of t, a normalized task: what a
// change writes.
func (r taskRow) withValues(t tasks.Task) taskRow {
	r.Title = t.Title
	r.Description = t.Description
	r.Completed = t.Completed
	r.Priority = int16(t.Priority)
	r.Tags = tagList(t.Tags)
	r.DueTime = timeOrNull(t.DueTime)
	r.UpdateTime = someTime(t.UpdateTime)
	r.CompleteTime = timeOrNull(t.CompleteTime)
	return r
}

// etag is the opaque form of a row version.
func etag(version int64) string { return "v" + strconv.FormatInt(version, 10) }

// parseETag returns the version an etag stands for, or false when it is not
// one this store makes (and so never the current one).
func parseETag(s string) (int64, bool) {
	rest, ok := strings.CutPrefix(s, "v")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(rest, 10, 64)
	return v, err == nil && v > 0 && etag(v) == s
}

// dbTime is a timestamp column, possibly NULL (see the dialects for how
// each database keeps it). Values are rounded with tasks.RoundTime before
// they are stored.
type dbTime struct {
	T     time.Time // UTC, whole microseconds
	Valid bool
}

func someTime(t time.Time) dbTime { return dbTime{T: tasks.RoundTime(t), Valid: true} }

func timeOrNull(t *time.Time) dbTime {
	if t == nil {
		return dbTime{}
	}
	return someTime(*t)
}

func (t dbTime) ptr() *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.T
	return &v
}

// AppendQuery implements schema.QueryAppender.
func (t dbTime) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	if !t.Valid {
		return append(b, "NULL"...), nil
	}
	return dialectOf(gen).appendTime(b, t.T), nil
}

// Scan implements sql.Scanner.
func (t *dbTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*t = dbTime{}
	case string: // PostgreSQL (selectTime)
		tm, err := parseTimeText(v)
		if err != nil {
			return err
		}
		*t = dbTime{T: tm, Valid: true}
	case time.Time: // PostgreSQL, selected without selectTime
		*t = dbTime{T: v.UTC(), Valid: true}
	case int64: // SQLite
		*t = dbTime{T: time.UnixMicro(v).UTC(), Valid: true}
	default:
		return fmt.Errorf("storage: cannot scan %T into a time", src)
	}
	return nil
}

// infinity sorts after every time: where DUE_TIME_ASC puts tasks without a
// due date. It matches the due-time index expression of each dialect.
type infinity struct{}

// AppendQuery implements schema.QueryAppender.
func (infinity) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	return dialectOf(gen).appendInfinity(b), nil
}

// tagList is the tags column: text[] on PostgreSQL, a JSON array of
// strings on SQLite.
type tagList []string

func (l tagList) slice() []string {
	if len(l) == 0 {
		return nil
	}
	return []string(l)
}

// AppendQuery implements schema.QueryAppender.
func (l tagList) AppendQuery(gen schema.QueryGen, b []byte) ([]byte, error) {
	tags := []string(l)
	if tags == nil {
		tags = []string{}
	}
	return dialectOf(gen).appendTags(gen, b, tags)
}

// Scan implements sql.Scanner.
func (l *tagList) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case nil:
		*l = nil
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into tags", src)
	}
	var tags []string
	if strings.HasPrefix(text, "[") { // SQLite's JSON
		if err := json.Unmarshal([]byte(text), &tags); err != nil {
			return err
		}
	} else if err := pgdialect.Array(&tags).Scan(text); err != nil {
		return err
	}
	*l = tags
	return nil
}
