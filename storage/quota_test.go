package storage

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/example/tasks"
)

// testQuota is MaxTasksPerUser in TestQuota's stores.
const testQuota = 5

// TestQuota: a user has at most MaxTasksPerUser tasks, however creates and
// deletes interleave, and the count each user's row keeps for it stays
// exact, on every backend.
func TestQuota(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		cfg := b.config(t)
		cfg.MaxTasksPerUser = testQuota
		s := mustMigrated(t, mustOpen(t, cfg))
		for _, c := range []storeCase{
			{"Reached", testQuotaReached},
			{"DeleteFreesPlace", testQuotaDeleteFreesPlace},
			{"RetryAtLimit", testQuotaRetryAtLimit},
			{"ParallelCreates", testQuotaParallelCreates},
			{"ParallelChurn", testQuotaParallelChurn},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.run(t, s)
			})
		}
	})
}

func testQuotaReached(t *testing.T, s *Store) {
	user, other := newUser(), newUser()
	mustFill(t, s, user, testQuota)
	for _, nt := range []tasks.NewTask{{Title: "one too many"}, {Title: "one too many", RequestID: uuid.NewString()}} {
		_, err := s.CreateTask(testContext(t), user, nt)
		wantKind(t, err, tasks.KindQuotaExceeded)
	}
	mustCountTasks(t, s, user, testQuota)
	mustCreate(t, s, other, tasks.NewTask{Title: "another user has room"})
}

func testQuotaDeleteFreesPlace(t *testing.T, s *Store) {
	user := newUser()
	ctx := testContext(t)
	made := mustFill(t, s, user, testQuota)
	// Updates and failed deletes change nothing.
	task := mustUpdate(t, s, user, made[0].ID, tasks.TaskPatch{Title: ptr("renamed")})
	wantKind(t, s.DeleteTask(ctx, user, task.ID, made[0].ETag), tasks.KindConflict)
	wantKind(t, s.DeleteTask(ctx, user, uuid.NewString(), ""), tasks.KindNotFound)
	_, err := s.CreateTask(ctx, user, tasks.NewTask{Title: "still full"})
	wantKind(t, err, tasks.KindQuotaExceeded)

	if err := s.DeleteTask(ctx, user, task.ID, task.ETag); err != nil {
		t.Fatal(err)
	}
	mustCountTasks(t, s, user, testQuota-1)
	mustCreate(t, s, user, tasks.NewTask{Title: "in the freed place"})
	_, err = s.CreateTask(ctx, user, tasks.NewTask{Title: "full again"})
	wantKind(t, err, tasks.KindQuotaExceeded)
	mustCountTasks(t, s, user, testQuota)
}

// testQuotaRetryAtLimit: at the limit, a create repeating a request id is
// answered as below it: the task it made, or NotFound once that is
// deleted; only new tasks are refused.
func testQuotaRetryAtLimit(t *testing.T, s *Store) {
	user := newUser()
	ctx := testContext(t)
	mustFill(t, s, user, testQuota-2)
	rid, doomed := uuid.NewString(), uuid.NewString()
	gone := mustCreate(t, s, user, tasks.NewTask{Title: "deleted later", RequestID: doomed})
	last := mustCreate(t, s, user, tasks.NewTask{Title: "the last place", RequestID: rid})

	again, err := s.CreateTask(ctx, user, tasks.NewTask{Title: "retried", RequestID: rid})
	if err != nil || again.ID != last.ID || again.Title != "the last place" {
		t.Fatalf("retry at the limit: %+v, %v; want task %s", again, err, last.ID)
	}
	_, err = s.CreateTask(ctx, user, tasks.NewTask{Title: "new", RequestID: uuid.NewString()})
	wantKind(t, err, tasks.KindQuotaExceeded)

	if err := s.DeleteTask(ctx, user, gone.ID, ""); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, user, tasks.NewTask{Title: "fills the place again"})
	_, err = s.CreateTask(ctx, user, tasks.NewTask{Title: "retried", RequestID: doomed})
	wantKind(t, err, tasks.KindNotFound) // deleted, not over quota
	mustCountTasks(t, s, user, testQuota)
}

// testQuotaParallelCreates: many creates at once for the last places store
// exactly as many tasks as there is room for.
func testQuotaParallelCreates(t *testing.T, s *Store) {
	user := newUser()
	mustFill(t, s, user, 2)
	const creators, each = 8, 3
	var stored, refused atomic.Int64
	var wg sync.WaitGroup
	for i := range creators {
		wg.Go(func() {
			for j := range each {
				nt := tasks.NewTask{Title: "racing"}
				if j%2 == 0 {
					nt.RequestID = uuid.NewString()
				}
				_, err := s.CreateTask(testContext(t), user, nt)
				switch {
				case err == nil:
					stored.Add(1)
				case tasks.KindOf(err) == tasks.KindQuotaExceeded:
					refused.Add(1)
				default:
					t.Errorf("creator %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
	if stored.Load() != testQuota-2 || refused.Load() != creators*each-(testQuota-2) {
		t.Errorf("%d stored, %d refused; want %d stored", stored.Load(), refused.Load(), testQuota-2)
	}
	mustCountTasks(t, s, user, testQuota)
}

// testQuotaParallelChurn races deletes (two of each task) with creates (two
// with each request id) at the limit: the count stays the number of tasks,
// which never passes the limit.
func testQuotaParallelChurn(t *testing.T, s *Store) {
	user := newUser()
	made := mustFill(t, s, user, testQuota)
	var deleted, stored atomic.Int64
	var wg sync.WaitGroup
	for _, task := range made {
		for range 2 {
			wg.Go(func() {
				err := s.DeleteTask(testContext(t), user, task.ID, "")
				switch {
				case err == nil:
					deleted.Add(1)
				case tasks.KindOf(err) != tasks.KindNotFound: // NotFound: the other one got there first
					t.Errorf("delete: %v", err)
				}
			})
		}
	}
	var ids sync.Map // of the tasks the creates returned
	for range 2 * testQuota {
		rid := uuid.NewString()
		for range 2 {
			wg.Go(func() {
				task, err := s.CreateTask(testContext(t), user, tasks.NewTask{Title: "churn", RequestID: rid})
				switch {
				case err == nil:
					if _, seen := ids.LoadOrStore(task.ID, true); !seen {
						stored.Add(1)
					}
				case tasks.KindOf(err) != tasks.KindQuotaExceeded:
					t.Errorf("create: %v", err)
				}
			})
		}
	}
	wg.Wait()
	if deleted.Load() != testQuota {
		t.Errorf("%d deletes succeeded, want %d", deleted.Load(), testQuota)
	}
	n := mustCountTasks(t, s, user, -1)
	if int64(n) != stored.Load() || n > testQuota {
		t.Errorf("%d tasks after the churn, %d stored by it; limit %d", n, stored.Load(), testQuota)
	}
}

// mustFill creates n tasks for user.
func mustFill(tb testing.TB, s *Store, user string, n int) []tasks.Task {
	tb.Helper()
	out := make([]tasks.Task, n)
	for i := range out {
		out[i] = mustCreate(tb, s, user, tasks.NewTask{Title: "filler"})
	}
	return out
}

// mustCountTasks checks that the count in user's row is the number of
// user's tasks, and that it is want (unless want < 0); it returns it.
func mustCountTasks(tb testing.TB, s *Store, user string, want int) int {
	tb.Helper()
	ctx := testContext(tb)
	var counted, actual int
	if err := s.reader.NewSelect().TableExpr("users AS u").ColumnExpr("u.task_count").
		Where("u.user_id = ?", user).Scan(ctx, &counted); err != nil {
		tb.Fatal(err)
	}
	if err := s.reader.NewSelect().TableExpr("tasks AS t").ColumnExpr("count(*)").
		Where("t.user_id = ?", user).Scan(ctx, &actual); err != nil {
		tb.Fatal(err)
	}
	if counted != actual {
		tb.Fatalf("user's row counts %d tasks, the user has %d", counted, actual)
	}
	if want >= 0 && actual != want {
		tb.Fatalf("user has %d tasks, want %d", actual, want)
	}
	return actual
}

// countMigration is the migration that adds the count of each user's tasks.
const countMigration = "20261204000000"

// previousCreate is the create of the version before countMigration, as
// its replicas send it during a rolling deploy.
const previousCreate = "SELECT tasks_create($1::text, $2::uuid, $3::text, $4::text, $5::boolean, $6::smallint, $7::text[], " +
	"$8::timestamptz, $9::timestamptz, $10::timestamptz, $11::timestamptz, $12::bigint, $13::uuid)"

// TestMigrationCountsTasks: the migration that adds the count fills it in
// for the tasks stored before it, and on PostgreSQL a replica of the
// previous version, still calling tasks_create as it did (even prepared
// before the migration), keeps creating, counted.
func TestMigrationCountsTasks(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := mustOpen(t, b.config(t))
		ctx := testContext(t)
		all := s.migrations
		s.migrations = migrationSet{Migrations: migrate.NewMigrations()}
		for _, m := range all.Sorted() {
			if m.Name < countMigration {
				s.migrations.Add(m)
			}
		}
		if _, err := s.MigrateUp(ctx); err != nil {
			t.Fatal(err)
		}
		many, one, none := newUser(), newUser(), newUser()
		for user, n := range map[string]int{many: 4, one: 1, none: 0} {
			mustStorePrevious(t, s, user, n)
		}
		var previous func(user string)
		if s.dialect.writes() != nil {
			previous = mustPreviousReplica(t, s)
			previous(one)
		}

		s.migrations = all
		applied, err := s.MigrateUp(ctx)
		if err != nil || len(applied) != 1 || !strings.HasPrefix(applied[0], countMigration) {
			t.Fatalf("applied %v, %v; want %s alone", applied, err, countMigration)
		}
		wantOne := 1
		if previous != nil {
			previous(one)
			wantOne = 3
		}
		mustCountTasks(t, s, many, 4)
		mustCountTasks(t, s, one, wantOne)
		mustCountTasks(t, s, none, 0)

		s.cfg.MaxTasksPerUser = 4
		_, err = s.CreateTask(ctx, many, tasks.NewTask{Title: "a fifth"})
		wantKind(t, err, tasks.KindQuotaExceeded)
		mustCreate(t, s, none, tasks.NewTask{Title: "a first"})
	})
}

// mustStorePrevious gives user a row in users and n tasks, as the version
// before countMigration stores them.
func mustStorePrevious(tb testing.TB, s *Store, user string, n int) {
	tb.Helper()
	err := s.run(testContext(tb), writeTx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := nextSeq(ctx, tx, user); err != nil {
			return err
		}
		for range n {
			row, err := newRow(user, tasks.NewTask{Title: "from before"})
			if err != nil {
				return err
			}
			if row.ChangeSeq, err = nextSeq(ctx, tx, user); err != nil {
				return err
			}
			if _, err := tx.NewInsert().Model(row.stamped(time.Now())).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// mustPreviousReplica returns a function that creates a task for a user
// as a replica of the version before countMigration does on PostgreSQL:
// previousCreate, prepared once on its connection unless the store
// prepares nothing.
func mustPreviousReplica(tb testing.TB, s *Store) func(user string) {
	tb.Helper()
	ctx := testContext(tb)
	conn, err := s.writer.DB.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	query := func(args ...any) *sql.Row { return conn.QueryRowContext(ctx, previousCreate, args...) }
	if s.stmts != nil {
		st, err := conn.PrepareContext(ctx, previousCreate)
		if err != nil {
			tb.Fatal(err)
		}
		query = func(args ...any) *sql.Row { return st.QueryRowContext(ctx, args...) }
	}
	return func(user string) {
		tb.Helper()
		row, err := newRow(user, tasks.NewTask{Title: "from a previous replica"})
		if err != nil {
			tb.Fatal(err)
		}
		var seq sql.NullInt64
		if err := query(paramValues(s.dialect, row.stamped(time.Now()).createArgs(0)[:13])...).Scan(&seq); err != nil || !seq.Valid {
			tb.Fatalf("the previous version's create: %v, %v", seq, err)
		}
	}
}
