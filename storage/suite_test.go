package storage

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/example/tasks"
)

// storeCase is one behaviour of the TaskStore contract; each runs against
// every backend, on its own users so cases can share a database.
type storeCase struct {
	name string
	run  func(t *testing.T, s *Store)
}

// storeCases are every semantic of the API contract the store carries.
var storeCases = []storeCase{
	{"CreateAndGet", testCreateAndGet},
	{"CreateInvalid", testCreateInvalid},
	{"IdempotentCreate", testIdempotentCreate},
	{"ParallelIdempotentCreate", testParallelIdempotentCreate},
	{"NotFound", testNotFound},
	{"Update", testUpdate},
	{"ETagChangesOnlyOnChange", testETagChangesOnlyOnChange},
	{"CompleteTime", testCompleteTime},
	{"Delete", testDelete},
	{"ParallelUpdates", testParallelUpdates},
	{"TimestampsRoundTrip", testTimestampsRoundTrip},
	{"ListFilters", testListFilters},
	{"ListOrders", testListOrders},
	{"PageSize", testPageSize},
	{"PageTokens", testPageTokens},
	{"PagePastTheEnd", testPagePastTheEnd},
	{"PaginationUnderChurn", testPaginationUnderChurn},
	{"ContextDone", testContextDone},
	{"Ping", testPing},
	{"ChangeSequence", testChangeSequence},
	{"FullAndIncrementalSync", testFullAndIncrementalSync},
	{"ChangePages", testChangePages},
	{"ChangeCursors", testChangeCursors},
	{"WritesInCommitOrder", testWritesInCommitOrder},
}

// TestStore runs every case against PostgreSQL, PostgreSQL through
// PgBouncer (transaction pooling) and SQLite.
func TestStore(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := mustMigratedStore(t, b)
			for _, c := range storeCases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, s)
				})
			}
		})
	}
}

func newUser() string { return "user-" + uuid.NewString() }

func ptr[T any](v T) *T { return &v }

func mustCreate(tb testing.TB, s *Store, user string, nt tasks.NewTask) tasks.Task {
	tb.Helper()
	task, err := s.CreateTask(testContext(tb), user, nt)
	if err != nil {
		tb.Fatalf("CreateTask(%+v): %v", nt, err)
	}
	return task
}

func mustGet(tb testing.TB, s *Store, user, id string) tasks.Task {
	tb.Helper()
	task, err := s.GetTask(testContext(tb), user, id)
	if err != nil {
		tb.Fatalf("GetTask(%s): %v", id, err)
	}
	return task
}

func mustUpdate(tb testing.TB, s *Store, user, id string, p tasks.TaskPatch) tasks.Task {
	tb.Helper()
	task, err := s.UpdateTask(testContext(tb), user, id, p)
	if err != nil {
		tb.Fatalf("UpdateTask(%s): %v", id, err)
	}
	return task
}

func mustList(tb testing.TB, s *Store, user string, q tasks.ListQuery) tasks.TaskPage {
	tb.Helper()
	page, err := s.ListTasks(testContext(tb), user, q)
	if err != nil {
		tb.Fatalf("ListTasks(%+v): %v", q, err)
	}
	return page
}

// mustListAll walks every page of a list and returns its tasks.
func mustListAll(tb testing.TB, s *Store, user string, q tasks.ListQuery) []tasks.Task {
	tb.Helper()
	var all []tasks.Task
	for {
		page := mustList(tb, s, user, q)
		all = append(all, page.Tasks...)
		if page.NextPageToken == "" {
			return all
		}
		if len(all) > 10_000 {
			tb.Fatal("list does not end")
		}
		q.PageToken = page.NextPageToken
	}
}

// wantKind fails unless err is a *tasks.Error of kind whose message
// carries no driver text.
func wantKind(tb testing.TB, err error, kind tasks.ErrorKind) {
	tb.Helper()
	var se *tasks.Error
	if !errors.As(err, &se) {
		tb.Fatalf("got error %v (%T), want a *tasks.Error of kind %v", err, err, kind)
	}
	if se.Kind != kind {
		tb.Fatalf("got %v error %q, want kind %v", se.Kind, err, kind)
	}
	mustBeClientSafe(tb, se.Message)
}

func ids(ts []tasks.Task) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}
