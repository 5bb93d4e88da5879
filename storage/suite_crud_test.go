package storage

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/tasks"
)

func testCreateAndGet(t *testing.T, s *Store) {
	user := newUser()
	due := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("CET", 3600))
	before := time.Now().Add(-time.Second)
	got := mustCreate(t, s, user, tasks.NewTask{
		Title:       "  Buy milk \t",
		Description: "two\nlitres",
		Priority:    tasks.PriorityHigh,
		Tags:        []string{"Home", "ÄRGER", "x_1-y"},
		DueTime:     &due,
	})
	id, err := uuid.Parse(got.ID)
	if err != nil || id.Version() != 7 || id.String() != got.ID {
		t.Errorf("id %q is not a lowercase UUIDv7", got.ID)
	}
	want := tasks.Task{
		ID:          got.ID,
		Title:       "Buy milk",
		Description: "two\nlitres",
		Priority:    tasks.PriorityHigh,
		Tags:        []string{"home", "ärger", "x_1-y"},
		DueTime:     ptr(due.Round(time.Microsecond).UTC()),
		CreateTime:  got.CreateTime,
		UpdateTime:  got.CreateTime,
		ETag:        got.ETag,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("created\n got  %+v\n want %+v", got, want)
	}
	if got.ETag == "" || got.CreateTime.Before(before) || got.CreateTime.Location() != time.UTC {
		t.Errorf("etag %q, create_time %v", got.ETag, got.CreateTime)
	}
	if read := mustGet(t, s, user, got.ID); !reflect.DeepEqual(read, got) {
		t.Errorf("read back\n got  %+v\n want %+v", read, got)
	}
	// The id in another spelling is the same task.
	if read := mustGet(t, s, user, strings.ToUpper(got.ID)); read.ID != got.ID {
		t.Errorf("upper-case id: got %s", read.ID)
	}
	page := mustList(t, s, user, tasks.ListQuery{IncludeTotal: true})
	if len(page.Tasks) != 1 || !reflect.DeepEqual(page.Tasks[0], got) || page.TotalSize != 1 || page.NextPageToken != "" {
		t.Errorf("list: %+v", page)
	}
	if page := mustList(t, s, user, tasks.ListQuery{}); page.TotalSize != 0 || len(page.Tasks) != 1 {
		t.Errorf("without IncludeTotal: total %d, %d tasks; want 0 (not counted), 1", page.TotalSize, len(page.Tasks))
	}
}

func testCreateInvalid(t *testing.T, s *Store) {
	user := newUser()
	many := make([]string, 17)
	for i := range many {
		many[i] = "t" + string(rune('a'+i))
	}
	for name, nt := range map[string]tasks.NewTask{
		"blank title":      {Title: " \t\n "},
		"long title":       {Title: strings.Repeat("é", 201)},
		"NUL in title":     {Title: "a\x00b"},
		"long description": {Title: "x", Description: strings.Repeat("d", 4001)},
		"duplicate tags":   {Title: "x", Tags: []string{"Work", "wORK"}},
		"17 tags":          {Title: "x", Tags: many},
		"empty tag":        {Title: "x", Tags: []string{""}},
		"long tag":         {Title: "x", Tags: []string{strings.Repeat("t", 33)}},
		"priority":         {Title: "x", Priority: 4},
		"request id":       {Title: "x", RequestID: "not-a-uuid"},
		"due year 0":       {Title: "x", DueTime: ptr(time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC))},
		"due year 10000":   {Title: "x", DueTime: ptr(time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))},
	} {
		_, err := s.CreateTask(testContext(t), user, nt)
		if err == nil {
			t.Errorf("%s: created", name)
			continue
		}
		wantKind(t, err, tasks.KindInvalid)
	}
	// The limits themselves are fine.
	mustCreate(t, s, user, tasks.NewTask{
		Title:       strings.Repeat("é", 200),
		Description: strings.Repeat("d", 4000),
		Tags:        append(many[:15], strings.Repeat("ü", 32)),
		Priority:    tasks.PriorityHigh,
	})
	if page := mustList(t, s, user, tasks.ListQuery{IncludeTotal: true}); page.TotalSize != 1 {
		t.Errorf("%d tasks, want the 1 valid one", page.TotalSize)
	}
}

func testIdempotentCreate(t *testing.T, s *Store) {
	user, other := newUser(), newUser()
	rid := uuid.NewString()
	first := mustCreate(t, s, user, tasks.NewTask{Title: "first", RequestID: rid})
	again := mustCreate(t, s, user, tasks.NewTask{Title: "second", RequestID: strings.ToUpper(rid)})
	if !reflect.DeepEqual(again, first) {
		t.Errorf("retry returned\n %+v\nnot the first task\n %+v", again, first)
	}
	theirs := mustCreate(t, s, other, tasks.NewTask{Title: "theirs", RequestID: rid})
	if theirs.ID == first.ID || theirs.Title != "theirs" {
		t.Errorf("another user's request id collided: %+v", theirs)
	}
	fresh := mustCreate(t, s, user, tasks.NewTask{Title: "no request id"})
	fresh2 := mustCreate(t, s, user, tasks.NewTask{Title: "no request id"})
	if fresh.ID == fresh2.ID {
		t.Error("creates without a request id were merged")
	}
	if page := mustList(t, s, user, tasks.ListQuery{IncludeTotal: true}); page.TotalSize != 3 {
		t.Errorf("user has %d tasks, want 3", page.TotalSize)
	}
}

func testParallelIdempotentCreate(t *testing.T, s *Store) {
	user := newUser()
	rid := uuid.NewString()
	const n = 12
	got := make([]tasks.Task, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			task, err := s.CreateTask(testContext(t), user, tasks.NewTask{Title: "racing", RequestID: rid})
			if err != nil {
				t.Errorf("create %d: %v", i, err)
			}
			got[i] = task
		})
	}
	wg.Wait()
	for i := range got {
		if got[i].ID != got[0].ID {
			t.Fatalf("create %d returned %s, create 0 %s", i, got[i].ID, got[0].ID)
		}
	}
	if page := mustList(t, s, user, tasks.ListQuery{IncludeTotal: true}); page.TotalSize != 1 {
		t.Errorf("%d rows for one request id", page.TotalSize)
	}
}

func testNotFound(t *testing.T, s *Store) {
	owner, other := newUser(), newUser()
	task := mustCreate(t, s, owner, tasks.NewTask{Title: "mine"})
	ctx := testContext(t)
	for _, c := range []struct{ user, id string }{
		{other, task.ID},          // another user's task
		{owner, uuid.NewString()}, // no such task
		{owner, "not-a-uuid"},
		{owner, ""},
		{owner, task.ID + "'; DROP TABLE tasks; --"},
	} {
		_, err := s.GetTask(ctx, c.user, c.id)
		wantKind(t, err, tasks.KindNotFound)
		_, err = s.UpdateTask(ctx, c.user, c.id, tasks.TaskPatch{Title: ptr("stolen")})
		wantKind(t, err, tasks.KindNotFound)
		_, err = s.UpdateTask(ctx, c.user, c.id, tasks.TaskPatch{Title: ptr("stolen"), ETag: task.ETag})
		wantKind(t, err, tasks.KindNotFound)
		wantKind(t, s.DeleteTask(ctx, c.user, c.id, ""), tasks.KindNotFound)
		wantKind(t, s.DeleteTask(ctx, c.user, c.id, task.ETag), tasks.KindNotFound)
	}
	if page := mustList(t, s, other, tasks.ListQuery{IncludeTotal: true}); page.TotalSize != 0 {
		t.Errorf("another user lists %d tasks", page.TotalSize)
	}
	if got := mustGet(t, s, owner, task.ID); !reflect.DeepEqual(got, task) {
		t.Errorf("the owner's task changed: %+v", got)
	}
}

func testUpdate(t *testing.T, s *Store) {
	user := newUser()
	ctx := testContext(t)
	task := mustCreate(t, s, user, tasks.NewTask{Title: "old", Tags: []string{"a"}})

	task2 := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Title: ptr("  new  "), ETag: task.ETag})
	if task2.Title != "new" || task2.ETag == task.ETag || !task2.UpdateTime.After(task.UpdateTime) ||
		!task2.CreateTime.Equal(task.CreateTime) || !slices.Equal(task2.Tags, task.Tags) {
		t.Errorf("after a title change: %+v", task2)
	}

	// A stale etag changes nothing.
	_, err := s.UpdateTask(ctx, user, task.ID, tasks.TaskPatch{Description: ptr("lost"), ETag: task.ETag})
	wantKind(t, err, tasks.KindConflict)
	if got := mustGet(t, s, user, task.ID); !reflect.DeepEqual(got, task2) {
		t.Errorf("a stale update changed the task: %+v", got)
	}

	// Invalid patches change nothing either.
	for name, p := range map[string]tasks.TaskPatch{
		"empty":          {},
		"empty with tag": {ETag: task2.ETag},
		"due and clear":  {DueTime: ptr(time.Now()), ClearDueTime: true},
		"duplicate tags": {Tags: &[]string{"x", "X"}},
		"blank title":    {Title: ptr("   ")},
		"priority":       {Priority: ptr(tasks.Priority(9))},
	} {
		_, err := s.UpdateTask(ctx, user, task.ID, p)
		if err == nil {
			t.Errorf("%s: updated", name)
			continue
		}
		wantKind(t, err, tasks.KindInvalid)
	}

	due := time.Date(2031, 5, 6, 7, 8, 9, 999_999_500, time.UTC) // rounds up to the next second
	task3 := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{
		Description: ptr("desc"),
		Priority:    ptr(tasks.PriorityLow),
		Tags:        &[]string{"B", "c"},
		DueTime:     &due,
	})
	if task3.Description != "desc" || task3.Priority != tasks.PriorityLow ||
		!slices.Equal(task3.Tags, []string{"b", "c"}) || !task3.DueTime.Equal(due.Round(time.Microsecond)) {
		t.Errorf("after a multi-field update: %+v", task3)
	}
	task4 := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{ClearDueTime: true, Tags: &[]string{}})
	if task4.DueTime != nil || task4.Tags != nil || task4.ETag == task3.ETag {
		t.Errorf("after clearing due time and tags: %+v", task4)
	}
	if got := mustGet(t, s, user, task.ID); !reflect.DeepEqual(got, task4) {
		t.Errorf("read back\n got  %+v\n want %+v", got, task4)
	}
}

func testETagChangesOnlyOnChange(t *testing.T, s *Store) {
	user := newUser()
	due := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	task := mustCreate(t, s, user, tasks.NewTask{Title: "same", Description: "d", Priority: 2, Tags: []string{"a", "b"}, DueTime: &due})
	same := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{
		Title:       ptr("  same "), // trims to the same title
		Description: ptr("d"),
		Completed:   ptr(false),
		Priority:    ptr(tasks.PriorityMedium),
		Tags:        &[]string{"A", "b"},
		DueTime:     ptr(due.Add(100 * time.Nanosecond)), // rounds to the same time
		ETag:        task.ETag,
	})
	if !reflect.DeepEqual(same, task) {
		t.Errorf("an update to the same values changed the task:\n got  %+v\n want %+v", same, task)
	}
	// Clearing an unset due time is no change either.
	task2 := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{ClearDueTime: true})
	if task2.ETag == task.ETag {
		t.Error("clearing the due time kept the etag")
	}
	if again := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{ClearDueTime: true}); !reflect.DeepEqual(again, task2) {
		t.Errorf("clearing a cleared due time changed the task: %+v", again)
	}
	// Reordering tags is a change: tags keep their order.
	task3 := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Tags: &[]string{"b", "a"}})
	if task3.ETag == task2.ETag || !slices.Equal(task3.Tags, []string{"b", "a"}) {
		t.Errorf("reordered tags: %+v", task3)
	}
}

func testCompleteTime(t *testing.T, s *Store) {
	user := newUser()
	task := mustCreate(t, s, user, tasks.NewTask{Title: "chore"})
	if task.Completed || task.CompleteTime != nil {
		t.Fatalf("new task: %+v", task)
	}
	done := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Completed: ptr(true)})
	if !done.Completed || done.CompleteTime == nil || !done.CompleteTime.Equal(done.UpdateTime) {
		t.Fatalf("completed: %+v", done)
	}
	if again := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Completed: ptr(true)}); !reflect.DeepEqual(again, done) {
		t.Errorf("completing a completed task changed it: %+v", again)
	}
	renamed := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Title: ptr("renamed")})
	if !renamed.CompleteTime.Equal(*done.CompleteTime) {
		t.Errorf("renaming moved complete_time: %v, was %v", renamed.CompleteTime, done.CompleteTime)
	}
	undone := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Completed: ptr(false)})
	if undone.Completed || undone.CompleteTime != nil {
		t.Errorf("uncompleted: %+v", undone)
	}
	if got := mustGet(t, s, user, task.ID); !reflect.DeepEqual(got, undone) {
		t.Errorf("read back %+v", got)
	}
}

func testDelete(t *testing.T, s *Store) {
	user := newUser()
	ctx := testContext(t)
	task := mustCreate(t, s, user, tasks.NewTask{Title: "doomed"})
	task2 := mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Title: ptr("doomed 2")})
	for _, stale := range []string{task.ETag, "garbage", "v0", "v-1", "v02"} {
		wantKind(t, s.DeleteTask(ctx, user, task.ID, stale), tasks.KindConflict)
	}
	mustGet(t, s, user, task.ID) // still there
	if err := s.DeleteTask(ctx, user, task.ID, task2.ETag); err != nil {
		t.Fatalf("delete with the current etag: %v", err)
	}
	_, err := s.GetTask(ctx, user, task.ID)
	wantKind(t, err, tasks.KindNotFound)
	wantKind(t, s.DeleteTask(ctx, user, task.ID, ""), tasks.KindNotFound)
	wantKind(t, s.DeleteTask(ctx, user, task.ID, task2.ETag), tasks.KindNotFound)

	other := mustCreate(t, s, user, tasks.NewTask{Title: "no etag"})
	if err := s.DeleteTask(ctx, user, other.ID, ""); err != nil {
		t.Fatalf("delete without an etag: %v", err)
	}
}

// testParallelUpdates has writers each add their own tag with
// read-modify-write cycles guarded by the etag, retrying on conflict. If
// any update were lost, a tag would be missing.
func testParallelUpdates(t *testing.T, s *Store) {
	user := newUser()
	task := mustCreate(t, s, user, tasks.NewTask{Title: "shared"})
	const writers = 8
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			tag := "w" + string(rune('a'+i))
			for attempt := 0; ; attempt++ {
				if attempt == 200 {
					t.Errorf("writer %d: no success in %d attempts", i, attempt)
					return
				}
				cur, err := s.GetTask(testContext(t), user, task.ID)
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
					return
				}
				tags := append(slices.Clone(cur.Tags), tag)
				_, err = s.UpdateTask(testContext(t), user, task.ID, tasks.TaskPatch{Tags: &tags, ETag: cur.ETag})
				if tasks.KindOf(err) == tasks.KindConflict {
					continue
				}
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
				return
			}
		})
	}
	wg.Wait()
	final := mustGet(t, s, user, task.ID)
	got := slices.Sorted(slices.Values(final.Tags))
	want := []string{"wa", "wb", "wc", "wd", "we", "wf", "wg", "wh"}
	if !slices.Equal(got, want) {
		t.Errorf("tags %v, want %v: an update was lost", got, want)
	}
	if final.ETag != etag(1+writers) {
		t.Errorf("etag %s after %d updates", final.ETag, writers)
	}
}

func testTimestampsRoundTrip(t *testing.T, s *Store) {
	user := newUser()
	for _, due := range []time.Time{
		time.Date(2030, 6, 1, 12, 0, 0, 123_456_789, time.FixedZone("", -7*3600)),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 58, 999_999_000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),           // the last the API takes
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_499, time.UTC), // before the epoch
		time.Unix(0, 500),
	} {
		created := mustCreate(t, s, user, tasks.NewTask{Title: "when", DueTime: &due})
		if !created.DueTime.Equal(due.Round(time.Microsecond)) {
			t.Errorf("due %v stored as %v", due, created.DueTime)
		}
		for _, ts := range []time.Time{created.CreateTime, *created.DueTime} {
			if ts.Nanosecond()%1000 != 0 || ts.Location() != time.UTC {
				t.Errorf("%v is not whole microseconds in UTC", ts)
			}
		}
		if got := mustGet(t, s, user, created.ID); !reflect.DeepEqual(got, created) {
			t.Errorf("read back\n got  %+v\n want %+v", got, created)
		}
		updated := mustUpdate(t, s, user, created.ID, tasks.TaskPatch{Completed: ptr(true)})
		if got := mustGet(t, s, user, created.ID); !reflect.DeepEqual(got, updated) {
			t.Errorf("read back after update\n got  %+v\n want %+v", got, updated)
		}
	}
	all := mustListAll(t, s, user, tasks.ListQuery{})
	for _, task := range all {
		if got := mustGet(t, s, user, task.ID); !reflect.DeepEqual(got, task) {
			t.Errorf("list and get disagree:\n list %+v\n get  %+v", task, got)
		}
	}
}

func testContextDone(t *testing.T, s *Store) {
	user := newUser()
	task := mustCreate(t, s, user, tasks.NewTask{Title: "x"})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.GetTask(canceled, user, task.ID)
	wantKind(t, err, tasks.KindDeadline)
	_, err = s.CreateTask(canceled, user, tasks.NewTask{Title: "y"})
	wantKind(t, err, tasks.KindDeadline)
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	_, err = s.ListTasks(expired, user, tasks.ListQuery{})
	wantKind(t, err, tasks.KindDeadline)
}

func testPing(t *testing.T, s *Store) {
	if err := s.Ping(testContext(t)); err != nil {
		t.Fatal(err)
	}
}
