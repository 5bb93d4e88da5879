package storage

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/example/tasks"
)

// copyOf is a client's copy of a user's tasks, kept by applying changes.
type copyOf map[string]tasks.Task

func (c copyOf) apply(changes []tasks.TaskChange) {
	for _, ch := range changes {
		if ch.Task != nil {
			c[ch.Task.ID] = *ch.Task
		} else {
			delete(c, ch.DeletedID)
		}
	}
}

func mustChanges(tb testing.TB, s *Store, user, cursor string, size int) tasks.ChangePage {
	tb.Helper()
	page, err := s.ListTaskChanges(testContext(tb), user, tasks.ChangeQuery{Cursor: cursor, PageSize: size})
	if err != nil {
		tb.Fatalf("ListTaskChanges(%q): %v", cursor, err)
	}
	if page.NextCursor == "" {
		tb.Fatal("no next cursor")
	}
	return page
}

// mustSync applies every page after cursor to c and returns the last
// cursor.
func mustSync(tb testing.TB, s *Store, user, cursor string, size int, c copyOf) string {
	tb.Helper()
	for range 10_000 {
		page := mustChanges(tb, s, user, cursor, size)
		if len(page.Changes) > size {
			tb.Fatalf("a page of %d changes, asked for %d", len(page.Changes), size)
		}
		c.apply(page.Changes)
		cursor = page.NextCursor
		if !page.HasMore {
			return cursor
		}
	}
	tb.Fatal("changes do not end")
	return ""
}

// wantCopy fails unless c holds exactly the user's tasks.
func wantCopy(tb testing.TB, s *Store, user string, c copyOf) {
	tb.Helper()
	want := copyOf{}
	for _, t := range mustListAll(tb, s, user, tasks.ListQuery{PageSize: tasks.MaxPageSize}) {
		want[t.ID] = t
	}
	if !reflect.DeepEqual(c, want) {
		tb.Errorf("the copy differs from the tasks:\n copy  %v\n tasks %v", slices.Sorted(maps.Keys(c)), slices.Sorted(maps.Keys(want)))
		for id, t := range want {
			if got, ok := c[id]; ok && !reflect.DeepEqual(got, t) {
				tb.Errorf("task %s:\n copy %+v\n now  %+v", id, got, t)
			}
		}
	}
}

func position(tb testing.TB, s *Store, user string) int64 {
	tb.Helper()
	pos, err := s.ChangePositions(testContext(tb), []string{user})
	if err != nil {
		tb.Fatal(err)
	}
	return pos[user]
}

// testChangeSequence: every write that changes something takes the user's
// next number, and nothing else does.
func testChangeSequence(t *testing.T, s *Store) {
	user, other := newUser(), newUser()
	if p := position(t, s, user); p != 0 {
		t.Fatalf("a new user at %d", p)
	}
	a := mustCreate(t, s, user, tasks.NewTask{Title: "a"})
	b := mustCreate(t, s, user, tasks.NewTask{Title: "b", RequestID: uuid.NewString()})
	mustCreate(t, s, other, tasks.NewTask{Title: "someone else's"})
	if p := position(t, s, user); p != 2 {
		t.Errorf("after two creates: %d", p)
	}
	mustUpdate(t, s, user, a.ID, tasks.TaskPatch{Title: ptr("a")}) // changes nothing
	if p := position(t, s, user); p != 2 {
		t.Errorf("a no-op update took a number: %d", p)
	}
	mustUpdate(t, s, user, a.ID, tasks.TaskPatch{Completed: ptr(true)})
	if err := s.DeleteTask(testContext(t), user, b.ID, ""); err != nil {
		t.Fatal(err)
	}
	if p := position(t, s, user); p != 4 {
		t.Errorf("after an update and a delete: %d", p)
	}
	if err := s.DeleteTask(testContext(t), user, b.ID, ""); tasks.KindOf(err) != tasks.KindNotFound {
		t.Errorf("deleting twice: %v", err)
	}
	if p := position(t, s, user); p != 4 {
		t.Errorf("a failed delete took a number: %d", p)
	}
	positions, err := s.ChangePositions(testContext(t), []string{user, other, "nobody"})
	if err != nil || positions[user] != 4 || positions[other] != 1 || positions["nobody"] != 0 {
		t.Errorf("positions %v, %v", positions, err)
	}
}

// testFullAndIncrementalSync: a full sync is every live task and no
// deletions; after it, every task created, changed or deleted comes once,
// in its latest state, in the order of its last change.
func testFullAndIncrementalSync(t *testing.T, s *Store) {
	user := newUser()
	keep := mustCreate(t, s, user, tasks.NewTask{Title: "keep"})
	change := mustCreate(t, s, user, tasks.NewTask{Title: "change"})
	gone := mustCreate(t, s, user, tasks.NewTask{Title: "gone"})
	if err := s.DeleteTask(testContext(t), user, mustCreate(t, s, user, tasks.NewTask{Title: "deleted before"}).ID, ""); err != nil {
		t.Fatal(err)
	}
	full := mustChanges(t, s, user, "", 0)
	if full.HasMore || len(full.Changes) != 3 {
		t.Fatalf("full sync: %+v", full)
	}
	for i, want := range []tasks.Task{keep, change, gone} {
		if got := full.Changes[i].Task; got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("full sync change %d: %+v, want %+v", i, full.Changes[i], want)
		}
	}
	if again := mustChanges(t, s, user, full.NextCursor, 0); len(again.Changes) != 0 || again.HasMore || again.Position != full.Position {
		t.Errorf("nothing changed, yet: %+v", again)
	}

	changed := mustUpdate(t, s, user, change.ID, tasks.TaskPatch{Title: ptr("changed once")})
	if err := s.DeleteTask(testContext(t), user, gone.ID, ""); err != nil {
		t.Fatal(err)
	}
	added := mustCreate(t, s, user, tasks.NewTask{Title: "added"})
	changed = mustUpdate(t, s, user, changed.ID, tasks.TaskPatch{Title: ptr("changed twice")})
	brief := mustCreate(t, s, user, tasks.NewTask{Title: "brief"})
	if err := s.DeleteTask(testContext(t), user, brief.ID, ""); err != nil {
		t.Fatal(err)
	}
	inc := mustChanges(t, s, user, full.NextCursor, 0)
	want := []tasks.TaskChange{{DeletedID: gone.ID}, {Task: &added}, {Task: &changed}, {DeletedID: brief.ID}}
	if !reflect.DeepEqual(inc.Changes, want) || inc.HasMore {
		t.Errorf("incremental:\n got  %+v\n want %+v", inc.Changes, want)
	}
	if inc.Position != position(t, s, user) {
		t.Errorf("position %d, user at %d", inc.Position, position(t, s, user))
	}
	c := copyOf{}
	c.apply(full.Changes)
	c.apply(inc.Changes)
	wantCopy(t, s, user, c)
}

// testChangePages: any page size walks to the same copy, pages never
// exceed it, and a walk interleaved with writes stays exact.
func testChangePages(t *testing.T, s *Store) {
	user := newUser()
	rng := rand.New(rand.NewPCG(7, 8))
	var live []string
	write := func() {
		switch op := rng.IntN(4); {
		case op == 0 && len(live) > 0:
			i := rng.IntN(len(live))
			if err := s.DeleteTask(testContext(t), user, live[i], ""); err != nil {
				t.Fatal(err)
			}
			live = slices.Delete(live, i, i+1)
		case op == 1 && len(live) > 0:
			mustUpdate(t, s, user, live[rng.IntN(len(live))], tasks.TaskPatch{Description: ptr(fmt.Sprint("d", rng.Int()))})
		default:
			live = append(live, mustCreate(t, s, user, tasks.NewTask{Title: fmt.Sprint("t", rng.Int())}).ID)
		}
	}
	for range 30 {
		write()
	}
	for _, size := range []int{1, 3, 100} {
		c := copyOf{}
		cursor := ""
		for round := range 5 {
			// A page at a time, with writes between pages.
			for {
				page := mustChanges(t, s, user, cursor, size)
				c.apply(page.Changes)
				cursor = page.NextCursor
				if round < 4 && rng.IntN(2) == 0 {
					write()
				}
				if !page.HasMore {
					break
				}
			}
			cursor = mustSync(t, s, user, cursor, size, c)
			wantCopy(t, s, user, c)
		}
	}
}

// testChangeCursors: cursors are the user's own, whole and recent.
func testChangeCursors(t *testing.T, s *Store) {
	ctx := testContext(t)
	user, other := newUser(), newUser()
	mustCreate(t, s, user, tasks.NewTask{Title: "t"})
	mustCreate(t, s, user, tasks.NewTask{Title: "u"})
	cursor := mustChanges(t, s, user, "", 0).NextCursor
	for name, bad := range map[string]string{
		"garbage":        "not a cursor",
		"cut short":      cursor[:len(cursor)-2],
		"altered":        cursor[:len(cursor)-1] + string(cursor[len(cursor)-1]^1),
		"a page token":   mustList(t, s, user, tasks.ListQuery{PageSize: 1}).NextPageToken,
		"with a newline": cursor[:4] + "\n" + cursor[4:],
	} {
		_, err := s.ListTaskChanges(ctx, user, tasks.ChangeQuery{Cursor: bad})
		wantKind(t, err, tasks.KindInvalid)
		if name == "garbage" {
			var e *tasks.Error
			if asError(err, &e); e == nil || e.Field != "cursor" {
				t.Errorf("the error names no field: %#v", err)
			}
		}
	}
	_, err := s.ListTaskChanges(ctx, other, tasks.ChangeQuery{Cursor: cursor})
	wantKind(t, err, tasks.KindInvalid) // another user's
	_, err = s.ListTaskChanges(ctx, user, tasks.ChangeQuery{PageSize: -1})
	wantKind(t, err, tasks.KindInvalid)

}

// TestForgettingDeletions runs the cases that forget deletions, on stores of
// their own (forgetting is for every user at once, so it would expire the
// cursors of cases running beside them).
func TestForgettingDeletions(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := mustMigratedStore(t, b)
			t.Run("CursorExpires", func(t *testing.T) { testCursorExpires(t, s) })
			t.Run("FullSyncOutlivesForgetting", func(t *testing.T) { testFullSyncOutlivesForgetting(t, s) })
			t.Run("CreateRepeatingDeletedRequest", func(t *testing.T) { testCreateRepeatingDeletedRequest(t, s) })
		})
	}
}

// testCursorExpires: deletions are forgotten after the retention; a cursor
// from before one has expired, and a full sync (and its cursors) works on.
func testCursorExpires(t *testing.T, s *Store) {
	ctx := testContext(t)
	user := newUser()
	task := mustCreate(t, s, user, tasks.NewTask{Title: "t"})
	cursor := mustChanges(t, s, user, "", 0).NextCursor
	if err := s.DeleteTask(ctx, user, task.ID, ""); err != nil {
		t.Fatal(err)
	}
	mustChanges(t, s, user, cursor, 0) // still remembered
	mustForgetAll(t, s)
	_, err := s.ListTaskChanges(ctx, user, tasks.ChangeQuery{Cursor: cursor})
	wantKind(t, err, tasks.KindCursorExpired)
	fresh := mustChanges(t, s, user, "", 0)
	if len(fresh.Changes) != 0 {
		t.Errorf("full sync after the deletion: %+v", fresh.Changes)
	}
	mustChanges(t, s, user, fresh.NextCursor, 0)
}

// mustForgetAll forgets every deletion, as the retention passing would.
func mustForgetAll(tb testing.TB, s *Store) {
	tb.Helper()
	for {
		n, err := s.forgetBatch(testContext(tb), time.Now().Add(time.Hour))
		if err != nil {
			tb.Fatal(err)
		}
		if n < forgetBatch {
			return
		}
	}
}

// testFullSyncOutlivesForgetting: a full sync that began after old
// deletions were forgotten can be paged to its end, even when its pages
// end before those deletions' numbers.
func testFullSyncOutlivesForgetting(t *testing.T, s *Store) {
	user := newUser()
	for i := range 3 {
		mustCreate(t, s, user, tasks.NewTask{Title: fmt.Sprint("old ", i)})
	}
	for range 2 {
		if err := s.DeleteTask(testContext(t), user, mustCreate(t, s, user, tasks.NewTask{Title: "brief"}).ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	mustForgetAll(t, s)
	c := copyOf{}
	mustSync(t, s, user, "", 1, c)
	wantCopy(t, s, user, c)
}

// testCreateRepeatingDeletedRequest: a retried create of a task deleted
// since answers NotFound while the deletion is remembered.
func testCreateRepeatingDeletedRequest(t *testing.T, s *Store) {
	ctx := testContext(t)
	user := newUser()
	rid := uuid.NewString()
	first := mustCreate(t, s, user, tasks.NewTask{Title: "once", RequestID: rid})
	if err := s.DeleteTask(ctx, user, first.ID, ""); err != nil {
		t.Fatal(err)
	}
	before := position(t, s, user)
	_, err := s.CreateTask(ctx, user, tasks.NewTask{Title: "once", RequestID: rid})
	wantKind(t, err, tasks.KindNotFound)
	if page := mustList(t, s, user, tasks.ListQuery{}); len(page.Tasks) != 0 {
		t.Errorf("the deleted task came back: %+v", page.Tasks)
	}
	// Another user's request ids are theirs.
	mustCreate(t, s, newUser(), tasks.NewTask{Title: "elsewhere", RequestID: rid})
	mustForgetAll(t, s)
	again := mustCreate(t, s, user, tasks.NewTask{Title: "once more", RequestID: rid})
	if again.ID == first.ID || position(t, s, user) <= before {
		t.Errorf("after the deletion is forgotten: %+v", again)
	}
}

// testWritesInCommitOrder: one user's concurrent writes take distinct,
// consecutive numbers, and a reader that keeps syncing meanwhile ends with
// exactly the tasks.
func testWritesInCommitOrder(t *testing.T, s *Store) {
	user := newUser()
	const writers, each = 6, 8
	done := make(chan struct{})
	var synced sync.WaitGroup
	c := copyOf{}
	synced.Go(func() {
		cursor, last := "", int64(0)
		for {
			select {
			case <-done:
				mustSync(t, s, user, cursor, 5, c)
				return
			default:
			}
			page := mustChanges(t, s, user, cursor, 5)
			if page.Position < last {
				t.Errorf("position went back from %d to %d", last, page.Position)
			}
			c.apply(page.Changes)
			cursor, last = page.NextCursor, page.Position
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				task := mustCreate(t, s, user, tasks.NewTask{Title: fmt.Sprint(w, "-", i)})
				if i%2 == 0 {
					mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Completed: ptr(true)})
				}
			}
		})
	}
	wg.Wait()
	close(done)
	synced.Wait()
	if p := position(t, s, user); p != writers*each*3/2 {
		t.Errorf("position %d after %d writes", p, writers*each*3/2)
	}
	wantCopy(t, s, user, c)
}

func asError(err error, target **tasks.Error) bool {
	e, ok := err.(*tasks.Error)
	*target = e
	return ok
}
