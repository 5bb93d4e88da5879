package main

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	tasksv1 "github.com/example/tasks/gen/tasks/v1"
	"github.com/example/tasks/internal/pgtest"
	"github.com/example/tasks/storage"
)

// badRow is a task row written straight into the database with a value
// the API cannot carry, as a row written before a rule existed or by hand
// would be: what the API sends for it instead.
type badRow struct {
	name string
	// spoil writes the bad value into the row of task id.
	spoil func(tb testing.TB, db *sql.DB, id string)
	// want is what the task looks like on the wire: the created task
	// with the repaired values.
	want func(created *tasksv1.Task) *tasksv1.Task
}

// yearTenThousand is where a due time a hair before the end of year 9999
// was rounded to before the schema and the domain refused it.
var yearTenThousand = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)

// TestStoredBadRows: one row the API cannot carry as stored fails no read
// of its user: lists, gets, sync pages, watches and updates still answer,
// over every protocol, with the row's values brought into the API's range
// (times clamped, invalid UTF-8 replaced), on PostgreSQL and SQLite.
func TestStoredBadRows(t *testing.T) {
	t.Parallel()
	dueAtTheEnd := func(created *tasksv1.Task) *tasksv1.Task {
		created.DueTime = &timestamppb.Timestamp{Seconds: 253402300799} // 9999-12-31T23:59:59Z
		return created
	}
	backends := []struct {
		name string
		// start returns a server and a connection of the test's own to its
		// database, with the placeholder style of its SQL.
		start func(tb testing.TB) (*testServer, *sql.DB)
		rows  []badRow
	}{
		{
			name: "postgres",
			start: func(tb testing.TB) (*testServer, *sql.DB) {
				url := pgtest.NewDatabase(tb)
				return mustStartServer(tb, map[string]string{"DATABASE_URL": url}), mustOpenDB(tb, url)
			},
			rows: []badRow{
				{
					name: "due in year 10000",
					spoil: func(tb testing.TB, db *sql.DB, id string) {
						mustExec(tb, db, "UPDATE tasks SET due_time = $1 WHERE id = $2", yearTenThousand, id)
					},
					want: dueAtTheEnd,
				},
				{
					name: "due at infinity",
					spoil: func(tb testing.TB, db *sql.DB, id string) {
						mustExec(tb, db, "UPDATE tasks SET due_time = 'infinity' WHERE id = $1", id)
					},
					want: dueAtTheEnd,
				},
				{
					name: "created BC",
					spoil: func(tb testing.TB, db *sql.DB, id string) {
						mustExec(tb, db, "UPDATE tasks SET create_time = '0044-03-15 12:00:00+00 BC' WHERE id = $1", id)
					},
					want: func(created *tasksv1.Task) *tasksv1.Task {
						created.CreateTime = &timestamppb.Timestamp{Seconds: -62135596800} // 0001-01-01T00:00:00Z
						return created
					},
				},
			},
		},
		{
			name: "sqlite",
			start: func(tb testing.TB) (*testServer, *sql.DB) {
				s := mustStartServer(tb, nil)
				db, err := sql.Open("sqlite", "file:"+storage.DefaultSQLitePath(s.cfg.DataDir)+"?_pragma=busy_timeout(10000)")
				if err != nil {
					tb.Fatal(err)
				}
				tb.Cleanup(func() { db.Close() })
				return s, db
			},
			rows: []badRow{
				{
					name: "due in year 10000",
					spoil: func(tb testing.TB, db *sql.DB, id string) {
						mustExec(tb, db, "UPDATE tasks SET due_time = ? WHERE id = ?", yearTenThousand.UnixMicro(), id)
					},
					want: dueAtTheEnd,
				},
				{
					name: "text that is not UTF-8",
					spoil: func(tb testing.TB, db *sql.DB, id string) {
						mustExec(tb, db, `UPDATE tasks SET title = CAST(X'6f6bff' AS TEXT), description = CAST(X'c3' AS TEXT) WHERE id = ?`, id)
					},
					want: func(created *tasksv1.Task) *tasksv1.Task {
						created.Title, created.Description = "ok\uFFFD", "\uFFFD"
						return created
					},
				},
			},
		},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s, db := b.start(t)
			for _, p := range protocols {
				t.Run(p.name, func(t *testing.T) {
					c := p.dial(t, s, s.mustToken(t, "spoilt-"+b.name+"-"+p.name))
					for _, row := range b.rows {
						t.Run(row.name, func(t *testing.T) {
							good := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "good"})
							created := mustCreate(t, c, &tasksv1.CreateTaskRequest{Title: "spoilt", Tags: []string{"x"}})
							row.spoil(t, db, created.GetId())
							want := row.want(created)
							checkReadsSurvive(t, c, good, want)
							mustExec(t, db, "DELETE FROM tasks WHERE id IN ("+placeholders(b.name)+")", good.GetId(), created.GetId())
						})
					}
				})
			}
		})
	}
}

// checkReadsSurvive checks that every read of the user's tasks answers,
// with good as it was and spoilt as wanted.
func checkReadsSurvive(t *testing.T, c taskAPI, good, spoilt *tasksv1.Task) {
	t.Helper()
	ctx := context.Background()
	byID := func(list []*tasksv1.Task) {
		t.Helper()
		if len(list) != 2 {
			t.Fatalf("%d tasks, want 2: %v", len(list), list)
		}
		for _, got := range list {
			if got.GetId() == good.GetId() {
				mustEqualTask(t, got, good)
			} else {
				mustEqualTask(t, got, spoilt)
			}
		}
	}

	list, err := c.ListTasks(ctx, &tasksv1.ListTasksRequest{})
	if err != nil {
		t.Fatalf("ListTasks: %v", err)
	}
	byID(list.GetTasks())
	mustEqualTask(t, mustGet(t, c, spoilt.GetId()), spoilt)

	changes, err := c.ListTaskChanges(ctx, &tasksv1.ListTaskChangesRequest{})
	if err != nil {
		t.Fatalf("ListTaskChanges: %v", err)
	}
	byID(changedTasks(changes.GetChanges()))
	watched, err := c.WatchFirst(ctx, &tasksv1.WatchTasksRequest{})
	if err != nil {
		t.Fatalf("WatchTasks: %v", err)
	}
	byID(changedTasks(watched.GetChanges()))

	// The task can still be changed; what was not changed is sent as
	// before.
	updated := mustUpdate(t, c, &tasksv1.UpdateTaskRequest{Id: spoilt.GetId(), Completed: new(true)})
	if !updated.GetCompleted() || updated.GetEtag() == spoilt.GetEtag() {
		t.Fatalf("update not applied: %v", updated)
	}
	mustEqualTask(t, updated, spoiltAfterUpdate(spoilt, updated))
}

// spoiltAfterUpdate is spoilt with what an update that completed it
// changes.
func spoiltAfterUpdate(spoilt, updated *tasksv1.Task) *tasksv1.Task {
	want := proto.CloneOf(spoilt)
	want.Completed, want.CompleteTime, want.UpdateTime, want.Etag = true, updated.GetCompleteTime(), updated.GetUpdateTime(), updated.GetEtag()
	return want
}

func changedTasks(changes []*tasksv1.TaskChange) []*tasksv1.Task {
	var out []*tasksv1.Task
	for _, c := range changes {
		if t := c.GetTask(); t != nil {
			out = append(out, t)
		}
	}
	return out
}

func mustExec(tb testing.TB, db *sql.DB, query string, args ...any) {
	tb.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
}

// placeholders is the two parameters of a statement in the style of the
// backend.
func placeholders(backend string) string {
	if backend == "postgres" {
		return "$1, $2"
	}
	return "?, ?"
}
