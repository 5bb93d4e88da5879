package storage

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/tasks"
)

var allOrders = []tasks.TaskOrder{
	tasks.OrderUnspecified,
	tasks.OrderCreateTimeDesc,
	tasks.OrderCreateTimeAsc,
	tasks.OrderUpdateTimeDesc,
	tasks.OrderDueTimeAsc,
	tasks.OrderPriorityDesc,
	tasks.OrderTitleAsc,
}

// compareTasks is the contract's order o, for checking the store's.
func compareTasks(o tasks.TaskOrder) func(a, b tasks.Task) int {
	byID := func(a, b tasks.Task) int { return strings.Compare(a.ID, b.ID) }
	switch o {
	case tasks.OrderCreateTimeAsc:
		return func(a, b tasks.Task) int { return cmp.Or(a.CreateTime.Compare(b.CreateTime), byID(a, b)) }
	case tasks.OrderUpdateTimeDesc:
		return func(a, b tasks.Task) int { return -cmp.Or(a.UpdateTime.Compare(b.UpdateTime), byID(a, b)) }
	case tasks.OrderDueTimeAsc:
		return func(a, b tasks.Task) int {
			switch {
			case a.DueTime == nil && b.DueTime == nil:
				return byID(a, b)
			case a.DueTime == nil:
				return 1
			case b.DueTime == nil:
				return -1
			}
			return cmp.Or(a.DueTime.Compare(*b.DueTime), byID(a, b))
		}
	case tasks.OrderPriorityDesc:
		return func(a, b tasks.Task) int {
			return -cmp.Or(cmp.Compare(a.Priority, b.Priority), a.CreateTime.Compare(b.CreateTime), byID(a, b))
		}
	case tasks.OrderTitleAsc:
		// Titles in these tests are lowercase letters and digits, which
		// every collation sorts alike.
		return func(a, b tasks.Task) int { return cmp.Or(strings.Compare(a.Title, b.Title), byID(a, b)) }
	default: // unspecified, create time descending
		return func(a, b tasks.Task) int { return -cmp.Or(a.CreateTime.Compare(b.CreateTime), byID(a, b)) }
	}
}

func testListFilters(t *testing.T, s *Store) {
	user := newUser()
	t0 := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	mk := func(nt tasks.NewTask, completed bool) string {
		task := mustCreate(t, s, user, nt)
		if completed {
			mustUpdate(t, s, user, task.ID, tasks.TaskPatch{Completed: ptr(true)})
		}
		return task.ID
	}
	a := mk(tasks.NewTask{Title: "Alpha 100% done", Priority: tasks.PriorityHigh, Tags: []string{"work"}, DueTime: &t0}, true)
	b := mk(tasks.NewTask{Title: "beta_test", Description: `path C:\Temp`, Priority: tasks.PriorityLow, Tags: []string{"home", "Work"}, DueTime: ptr(t0.Add(time.Hour))}, false)
	c := mk(tasks.NewTask{Title: "Gamma", Description: "now 50% off"}, false)
	d := mk(tasks.NewTask{Title: "ÄRGER im Büro", Priority: tasks.PriorityMedium, DueTime: ptr(t0.Add(-time.Microsecond))}, false)
	e := mk(tasks.NewTask{Title: "plain", Description: "nothing special", Tags: []string{"ärger"}}, false)
	mustCreate(t, s, newUser(), tasks.NewTask{Title: "Alpha 100% done, another user's", Tags: []string{"work"}, DueTime: &t0})

	for _, c := range []struct {
		name   string
		filter tasks.TaskFilter
		want   []string
	}{
		{"none", tasks.TaskFilter{}, []string{a, b, c, d, e}},
		{"completed", tasks.TaskFilter{Completed: ptr(true)}, []string{a}},
		{"not completed", tasks.TaskFilter{Completed: ptr(false)}, []string{b, c, d, e}},
		{"priority high", tasks.TaskFilter{Priority: tasks.PriorityHigh}, []string{a}},
		{"priority low", tasks.TaskFilter{Priority: tasks.PriorityLow}, []string{b}},
		{"tag", tasks.TaskFilter{Tag: "work"}, []string{a, b}},
		{"tag upper case", tasks.TaskFilter{Tag: "WORK"}, []string{a, b}},
		{"tag non-ASCII", tasks.TaskFilter{Tag: "ÄRGER"}, []string{e}},
		{"tag none", tasks.TaskFilter{Tag: "nope"}, nil},
		{"tag prefix", tasks.TaskFilter{Tag: "wor"}, nil},
		{"query percent", tasks.TaskFilter{Query: "%"}, []string{a, c}},
		{"query percent inside", tasks.TaskFilter{Query: "0% d"}, []string{a}},
		{"query percent as wildcard", tasks.TaskFilter{Query: "a%e"}, nil},
		{"query underscore", tasks.TaskFilter{Query: "_"}, []string{b}},
		{"query underscore as wildcard", tasks.TaskFilter{Query: "b_ta"}, nil},
		{"query backslash", tasks.TaskFilter{Query: `\`}, []string{b}},
		{"query backslash escape", tasks.TaskFilter{Query: `\t`}, []string{b}},
		{"query case", tasks.TaskFilter{Query: `c:\temp`}, []string{b}},
		{"query description", tasks.TaskFilter{Query: "SPECIAL"}, []string{e}},
		{"query non-ASCII case", tasks.TaskFilter{Query: "ärger IM büro"}, []string{d}},
		{"query quote", tasks.TaskFilter{Query: "'"}, nil},
		{"query NUL", tasks.TaskFilter{Query: "a\x00"}, nil},
		{"due before", tasks.TaskFilter{DueBefore: &t0}, []string{d}},
		{"due after (inclusive)", tasks.TaskFilter{DueAfter: &t0}, []string{a, b}},
		{"due window", tasks.TaskFilter{DueAfter: &t0, DueBefore: ptr(t0.Add(time.Hour))}, []string{a}},
		{"due before, rounded", tasks.TaskFilter{DueBefore: ptr(t0.Add(-time.Microsecond + 400))}, nil},
		{"combined", tasks.TaskFilter{Tag: "work", Completed: ptr(false), Query: "BETA"}, []string{b}},
	} {
		for _, size := range []int32{0, 2} {
			got := mustListAll(t, s, user, tasks.ListQuery{Filter: c.filter, PageSize: int(size)})
			page := mustList(t, s, user, tasks.ListQuery{Filter: c.filter, PageSize: int(size), IncludeTotal: true})
			gotIDs := slices.Sorted(slices.Values(ids(got)))
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(gotIDs, want) || page.TotalSize != len(want) {
				t.Errorf("%s (page size %d): got %d tasks %v (total_size %d), want %v", c.name, size, len(gotIDs), gotIDs, page.TotalSize, want)
			}
		}
	}
}

// mustCreateVaried creates n tasks of user with titles, priorities, due
// times (some none) and update times in an order that differs from their
// creation order.
func mustCreateVaried(tb testing.TB, s *Store, user string, n int, rng *rand.Rand) []tasks.Task {
	tb.Helper()
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	created := make([]tasks.Task, 0, n)
	for range n {
		nt := tasks.NewTask{
			Title:    fmt.Sprintf("t%03d", rng.IntN(40)), // duplicates on purpose: ties break by id
			Priority: tasks.Priority(rng.IntN(4)),
		}
		if rng.IntN(3) > 0 {
			nt.DueTime = ptr(base.Add(time.Duration(rng.IntN(5)) * time.Hour)) // ties on purpose
		}
		created = append(created, mustCreate(tb, s, user, nt))
	}
	for _, i := range rng.Perm(n)[:n/2] {
		created[i] = mustUpdate(tb, s, user, created[i].ID, tasks.TaskPatch{Description: ptr("touched")})
	}
	return created
}

func testListOrders(t *testing.T, s *Store) {
	user := newUser()
	created := mustCreateVaried(t, s, user, 23, rand.New(rand.NewPCG(1, 2)))
	mustCreate(t, s, newUser(), tasks.NewTask{Title: "t000"}) // another user's
	for _, o := range allOrders {
		want := slices.Clone(created)
		slices.SortFunc(want, compareTasks(o))
		for _, size := range []int{1, 4, 23, 100} {
			var got []tasks.Task
			// The total on every page: each page counts when asked.
			q := tasks.ListQuery{Order: o, PageSize: size, IncludeTotal: true}
			for {
				page := mustList(t, s, user, q)
				if page.TotalSize != len(created) {
					t.Errorf("order %d: total_size %d, want %d", o, page.TotalSize, len(created))
				}
				got = append(got, page.Tasks...)
				if page.NextPageToken == "" {
					break
				}
				if len(page.Tasks) != size {
					t.Fatalf("order %d: a page of %d before the last, want %d", o, len(page.Tasks), size)
				}
				q.PageToken = page.NextPageToken
			}
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("order %d, page size %d:\n got  %v\n want %v", o, size, ids(got), ids(want))
			}
		}
	}
}

func testPageSize(t *testing.T, s *Store) {
	user := newUser()
	for i := range 101 {
		mustCreate(t, s, user, tasks.NewTask{Title: fmt.Sprint("task ", i)})
	}
	for _, c := range []struct{ size, want int }{{0, 50}, {1, 1}, {100, 100}, {101, 100}, {1 << 30, 100}} {
		page := mustList(t, s, user, tasks.ListQuery{PageSize: c.size, IncludeTotal: true})
		if len(page.Tasks) != c.want || page.NextPageToken == "" || page.TotalSize != 101 {
			t.Errorf("page size %d: %d tasks, total %d, token %q", c.size, len(page.Tasks), page.TotalSize, page.NextPageToken)
		}
	}
	_, err := s.ListTasks(testContext(t), user, tasks.ListQuery{PageSize: -1})
	wantKind(t, err, tasks.KindInvalid)
	_, err = s.ListTasks(testContext(t), user, tasks.ListQuery{Order: 7})
	wantKind(t, err, tasks.KindInvalid)
}

func testPageTokens(t *testing.T, s *Store) {
	user, other := newUser(), newUser()
	for i := range 5 {
		mustCreate(t, s, user, tasks.NewTask{Title: fmt.Sprint("task ", i), Tags: []string{"t"}})
	}
	q := tasks.ListQuery{PageSize: 2, Filter: tasks.TaskFilter{Tag: "T", Completed: ptr(false)}, Order: tasks.OrderTitleAsc}
	first := mustList(t, s, user, q)
	token := first.NextPageToken
	next := q
	next.PageToken = token
	second := mustList(t, s, user, next)

	// The same token works with another page size, with the filter
	// spelled differently but meaning the same, and on another store
	// (a replica, or after a restart) of the same database.
	bigger := next
	bigger.PageSize = 10
	bigger.Filter.Tag = "t"
	if page := mustList(t, s, user, bigger); len(page.Tasks) != 3 || page.Tasks[0].ID != second.Tasks[0].ID {
		t.Errorf("reused with a bigger page: %v", ids(page.Tasks))
	}
	replica := mustOpen(t, s.cfg)
	if page := mustList(t, replica, user, next); !slices.Equal(ids(page.Tasks), ids(second.Tasks)) {
		t.Errorf("another store: %v, want %v", ids(page.Tasks), ids(second.Tasks))
	}

	bad := map[string]struct {
		user string
		q    tasks.ListQuery
	}{
		"truncated":         {user, with(next, func(q *tasks.ListQuery) { q.PageToken = token[:len(token)-1] })},
		"short":             {user, with(next, func(q *tasks.ListQuery) { q.PageToken = token[:8] })},
		"garbage":           {user, with(next, func(q *tasks.ListQuery) { q.PageToken = "garbage!" })},
		"newline":           {user, with(next, func(q *tasks.ListQuery) { q.PageToken = token + "\n" })},
		"another user":      {other, next},
		"another order":     {user, with(next, func(q *tasks.ListQuery) { q.Order = tasks.OrderCreateTimeDesc })},
		"another tag":       {user, with(next, func(q *tasks.ListQuery) { q.Filter.Tag = "u" })},
		"no completed":      {user, with(next, func(q *tasks.ListQuery) { q.Filter.Completed = nil })},
		"another completed": {user, with(next, func(q *tasks.ListQuery) { q.Filter.Completed = ptr(true) })},
		"a query":           {user, with(next, func(q *tasks.ListQuery) { q.Filter.Query = "x" })},
		"a priority":        {user, with(next, func(q *tasks.ListQuery) { q.Filter.Priority = tasks.PriorityLow })},
		"a due time":        {user, with(next, func(q *tasks.ListQuery) { q.Filter.DueAfter = ptr(time.Now()) })},
	}
	// Every single-character change.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(token) {
		c := alphabet[(strings.IndexByte(alphabet, token[i])+1)%len(alphabet)]
		tampered := token[:i] + string(c) + token[i+1:]
		bad[fmt.Sprint("changed at ", i)] = struct {
			user string
			q    tasks.ListQuery
		}{user, with(next, func(q *tasks.ListQuery) { q.PageToken = tampered })}
	}
	for name, c := range bad {
		_, err := s.ListTasks(testContext(t), c.user, c.q)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		wantKind(t, err, tasks.KindInvalid)
		if msg := err.(*tasks.Error).Message; msg != "invalid page token" {
			t.Errorf("%s: message %q", name, msg)
		}
	}
}

// testPagePastTheEnd follows a token whose tasks were deleted since.
func testPagePastTheEnd(t *testing.T, s *Store) {
	user := newUser()
	var created []tasks.Task
	for i := range 3 {
		created = append(created, mustCreate(t, s, user, tasks.NewTask{Title: fmt.Sprint("t", i)}))
	}
	q := tasks.ListQuery{PageSize: 2, Order: tasks.OrderCreateTimeAsc, IncludeTotal: true}
	q.PageToken = mustList(t, s, user, q).NextPageToken
	if err := s.DeleteTask(testContext(t), user, created[2].ID, ""); err != nil {
		t.Fatal(err)
	}
	page := mustList(t, s, user, q)
	if len(page.Tasks) != 0 || page.NextPageToken != "" || page.TotalSize != 2 {
		t.Errorf("page past the end: %+v", page)
	}
}

func with(q tasks.ListQuery, change func(*tasks.ListQuery)) tasks.ListQuery {
	change(&q)
	return q
}

// testPaginationUnderChurn walks every order while another goroutine keeps
// creating and deleting tasks: no task may come twice, and every task that
// existed unchanged for the whole walk must come. The churn is bounded, so
// a walk in creation order does not chase it forever.
func testPaginationUnderChurn(t *testing.T, s *Store) {
	const maxChurn = 80
	for _, o := range allOrders {
		t.Run(fmt.Sprint("order ", o), func(t *testing.T) {
			t.Parallel()
			user := newUser()
			rng := rand.New(rand.NewPCG(uint64(o), 7))
			stable := mustCreateVaried(t, s, user, 30, rng)
			var (
				stop   = make(chan struct{})
				done   = make(chan struct{})
				churns atomic.Int64
			)
			go func() {
				defer close(done)
				crng := rand.New(rand.NewPCG(uint64(o), 8))
				var mine []string
				for i := range maxChurn {
					select {
					case <-stop:
						return
					default:
					}
					nt := tasks.NewTask{Title: fmt.Sprintf("t%03d", crng.IntN(40)), Priority: tasks.Priority(crng.IntN(4))}
					if crng.IntN(2) == 0 {
						nt.DueTime = ptr(time.Date(2030, 1, 1, crng.IntN(5), 0, 0, 0, time.UTC))
					}
					task, err := s.CreateTask(testContext(t), user, nt)
					if err != nil {
						t.Errorf("churn create: %v", err)
						return
					}
					mine = append(mine, task.ID)
					if i%2 == 1 {
						victim := mine[crng.IntN(len(mine))]
						if err := s.DeleteTask(testContext(t), user, victim, ""); err != nil && tasks.KindOf(err) != tasks.KindNotFound {
							t.Errorf("churn delete: %v", err)
							return
						}
					}
					churns.Add(1)
				}
			}()
			seen := map[string]bool{}
			q := tasks.ListQuery{Order: o, PageSize: 4}
			for pages := 0; ; pages++ {
				// Let the churn run between pages too.
				for start := churns.Load(); churns.Load() < start+2 && pages < 40; {
					select {
					case <-done:
						start = -10
					default:
						time.Sleep(time.Millisecond)
					}
				}
				page := mustList(t, s, user, q)
				for _, task := range page.Tasks {
					if seen[task.ID] {
						t.Fatalf("task %s returned twice", task.ID)
					}
					seen[task.ID] = true
				}
				if page.NextPageToken == "" {
					break
				}
				q.PageToken = page.NextPageToken
			}
			close(stop)
			<-done
			for _, task := range stable {
				if !seen[task.ID] {
					t.Errorf("stable task %s (%+v) was skipped", task.ID, task)
				}
			}
			t.Logf("order %d: %d tasks seen, %d churn operations", o, len(seen), churns.Load())
		})
	}
}
