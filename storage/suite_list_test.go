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

	"github.com/example/tasks/service"
)

var allOrders = []service.TaskOrder{
	service.OrderUnspecified,
	service.OrderCreateTimeDesc,
	service.OrderCreateTimeAsc,
	service.OrderUpdateTimeDesc,
	service.OrderDueTimeAsc,
	service.OrderPriorityDesc,
	service.OrderTitleAsc,
}

// compareTasks is the contract's order o, for checking the store's.
func compareTasks(o service.TaskOrder) func(a, b service.Task) int {
	byID := func(a, b service.Task) int { return strings.Compare(a.ID, b.ID) }
	switch o {
	case service.OrderCreateTimeAsc:
		return func(a, b service.Task) int { return cmp.Or(a.CreateTime.Compare(b.CreateTime), byID(a, b)) }
	case service.OrderUpdateTimeDesc:
		return func(a, b service.Task) int { return -cmp.Or(a.UpdateTime.Compare(b.UpdateTime), byID(a, b)) }
	case service.OrderDueTimeAsc:
		return func(a, b service.Task) int {
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
	case service.OrderPriorityDesc:
		return func(a, b service.Task) int {
			return -cmp.Or(cmp.Compare(a.Priority, b.Priority), a.CreateTime.Compare(b.CreateTime), byID(a, b))
		}
	case service.OrderTitleAsc:
		// Titles in these tests are lowercase letters and digits, which
		// every collation sorts alike.
		return func(a, b service.Task) int { return cmp.Or(strings.Compare(a.Title, b.Title), byID(a, b)) }
	default: // unspecified, create time descending
		return func(a, b service.Task) int { return -cmp.Or(a.CreateTime.Compare(b.CreateTime), byID(a, b)) }
	}
}

func testListFilters(t *testing.T, s *Store) {
	user := newUser()
	t0 := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	mk := func(nt service.NewTask, completed bool) string {
		task := mustCreate(t, s, user, nt)
		if completed {
			mustUpdate(t, s, user, task.ID, service.TaskPatch{Completed: ptr(true)})
		}
		return task.ID
	}
	a := mk(service.NewTask{Title: "Alpha 100% done", Priority: service.PriorityHigh, Tags: []string{"work"}, DueTime: &t0}, true)
	b := mk(service.NewTask{Title: "beta_test", Description: `path C:\Temp`, Priority: service.PriorityLow, Tags: []string{"home", "Work"}, DueTime: ptr(t0.Add(time.Hour))}, false)
	c := mk(service.NewTask{Title: "Gamma", Description: "now 50% off"}, false)
	d := mk(service.NewTask{Title: "ÄRGER im Büro", Priority: service.PriorityMedium, DueTime: ptr(t0.Add(-time.Microsecond))}, false)
	e := mk(service.NewTask{Title: "plain", Description: "nothing special", Tags: []string{"ärger"}}, false)
	mustCreate(t, s, newUser(), service.NewTask{Title: "Alpha 100% done, another user's", Tags: []string{"work"}, DueTime: &t0})

	for _, c := range []struct {
		name   string
		filter service.TaskFilter
		want   []string
	}{
		{"none", service.TaskFilter{}, []string{a, b, c, d, e}},
		{"completed", service.TaskFilter{Completed: ptr(true)}, []string{a}},
		{"not completed", service.TaskFilter{Completed: ptr(false)}, []string{b, c, d, e}},
		{"priority high", service.TaskFilter{Priority: service.PriorityHigh}, []string{a}},
		{"priority low", service.TaskFilter{Priority: service.PriorityLow}, []string{b}},
		{"tag", service.TaskFilter{Tag: "work"}, []string{a, b}},
		{"tag upper case", service.TaskFilter{Tag: "WORK"}, []string{a, b}},
		{"tag non-ASCII", service.TaskFilter{Tag: "ÄRGER"}, []string{e}},
		{"tag none", service.TaskFilter{Tag: "nope"}, nil},
		{"tag prefix", service.TaskFilter{Tag: "wor"}, nil},
		{"query percent", service.TaskFilter{Query: "%"}, []string{a, c}},
		{"query percent inside", service.TaskFilter{Query: "0% d"}, []string{a}},
		{"query percent as wildcard", service.TaskFilter{Query: "a%e"}, nil},
		{"query underscore", service.TaskFilter{Query: "_"}, []string{b}},
		{"query underscore as wildcard", service.TaskFilter{Query: "b_ta"}, nil},
		{"query backslash", service.TaskFilter{Query: `\`}, []string{b}},
		{"query backslash escape", service.TaskFilter{Query: `\t`}, []string{b}},
		{"query case", service.TaskFilter{Query: `c:\temp`}, []string{b}},
		{"query description", service.TaskFilter{Query: "SPECIAL"}, []string{e}},
		{"query non-ASCII case", service.TaskFilter{Query: "ärger IM büro"}, []string{d}},
		{"query quote", service.TaskFilter{Query: "'"}, nil},
		{"query NUL", service.TaskFilter{Query: "a\x00"}, nil},
		{"due before", service.TaskFilter{DueBefore: &t0}, []string{d}},
		{"due after (inclusive)", service.TaskFilter{DueAfter: &t0}, []string{a, b}},
		{"due window", service.TaskFilter{DueAfter: &t0, DueBefore: ptr(t0.Add(time.Hour))}, []string{a}},
		{"due before, rounded", service.TaskFilter{DueBefore: ptr(t0.Add(-time.Microsecond + 400))}, nil},
		{"combined", service.TaskFilter{Tag: "work", Completed: ptr(false), Query: "BETA"}, []string{b}},
	} {
		for _, size := range []int32{0, 2} {
			got := mustListAll(t, s, user, service.ListQuery{Filter: c.filter, PageSize: int(size)})
			page := mustList(t, s, user, service.ListQuery{Filter: c.filter, PageSize: int(size)})
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
func mustCreateVaried(tb testing.TB, s *Store, user string, n int, rng *rand.Rand) []service.Task {
	tb.Helper()
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tasks := make([]service.Task, 0, n)
	for range n {
		nt := service.NewTask{
			Title:    fmt.Sprintf("t%03d", rng.IntN(40)), // duplicates on purpose: ties break by id
			Priority: service.Priority(rng.IntN(4)),
		}
		if rng.IntN(3) > 0 {
			nt.DueTime = ptr(base.Add(time.Duration(rng.IntN(5)) * time.Hour)) // ties on purpose
		}
		tasks = append(tasks, mustCreate(tb, s, user, nt))
	}
	for _, i := range rng.Perm(n)[:n/2] {
		tasks[i] = mustUpdate(tb, s, user, tasks[i].ID, service.TaskPatch{Description: ptr("touched")})
	}
	return tasks
}

func testListOrders(t *testing.T, s *Store) {
	user := newUser()
	tasks := mustCreateVaried(t, s, user, 23, rand.New(rand.NewPCG(1, 2)))
	mustCreate(t, s, newUser(), service.NewTask{Title: "t000"}) // another user's
	for _, o := range allOrders {
		want := slices.Clone(tasks)
		slices.SortFunc(want, compareTasks(o))
		for _, size := range []int{1, 4, 23, 100} {
			var got []service.Task
			q := service.ListQuery{Order: o, PageSize: size}
			for {
				page := mustList(t, s, user, q)
				if page.TotalSize != len(tasks) {
					t.Errorf("order %d: total_size %d, want %d", o, page.TotalSize, len(tasks))
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
		mustCreate(t, s, user, service.NewTask{Title: fmt.Sprint("task ", i)})
	}
	for _, c := range []struct{ size, want int }{{0, 50}, {1, 1}, {100, 100}, {101, 100}, {1 << 30, 100}} {
		page := mustList(t, s, user, service.ListQuery{PageSize: c.size})
		if len(page.Tasks) != c.want || page.NextPageToken == "" || page.TotalSize != 101 {
			t.Errorf("page size %d: %d tasks, total %d, token %q", c.size, len(page.Tasks), page.TotalSize, page.NextPageToken)
		}
	}
	_, err := s.ListTasks(testContext(t), user, service.ListQuery{PageSize: -1})
	wantKind(t, err, service.KindInvalid)
	_, err = s.ListTasks(testContext(t), user, service.ListQuery{Order: 7})
	wantKind(t, err, service.KindInvalid)
}

func testPageTokens(t *testing.T, s *Store) {
	user, other := newUser(), newUser()
	for i := range 5 {
		mustCreate(t, s, user, service.NewTask{Title: fmt.Sprint("task ", i), Tags: []string{"t"}})
	}
	q := service.ListQuery{PageSize: 2, Filter: service.TaskFilter{Tag: "T", Completed: ptr(false)}, Order: service.OrderTitleAsc}
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
		q    service.ListQuery
	}{
		"truncated":         {user, with(next, func(q *service.ListQuery) { q.PageToken = token[:len(token)-1] })},
		"short":             {user, with(next, func(q *service.ListQuery) { q.PageToken = token[:8] })},
		"garbage":           {user, with(next, func(q *service.ListQuery) { q.PageToken = "garbage!" })},
		"newline":           {user, with(next, func(q *service.ListQuery) { q.PageToken = token + "\n" })},
		"another user":      {other, next},
		"another order":     {user, with(next, func(q *service.ListQuery) { q.Order = service.OrderCreateTimeDesc })},
		"another tag":       {user, with(next, func(q *service.ListQuery) { q.Filter.Tag = "u" })},
		"no completed":      {user, with(next, func(q *service.ListQuery) { q.Filter.Completed = nil })},
		"another completed": {user, with(next, func(q *service.ListQuery) { q.Filter.Completed = ptr(true) })},
		"a query":           {user, with(next, func(q *service.ListQuery) { q.Filter.Query = "x" })},
		"a priority":        {user, with(next, func(q *service.ListQuery) { q.Filter.Priority = service.PriorityLow })},
		"a due time":        {user, with(next, func(q *service.ListQuery) { q.Filter.DueAfter = ptr(time.Now()) })},
	}
	// Every single-character change.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := range len(token) {
		c := alphabet[(strings.IndexByte(alphabet, token[i])+1)%len(alphabet)]
		tampered := token[:i] + string(c) + token[i+1:]
		bad[fmt.Sprint("changed at ", i)] = struct {
			user string
			q    service.ListQuery
		}{user, with(next, func(q *service.ListQuery) { q.PageToken = tampered })}
	}
	for name, c := range bad {
		_, err := s.ListTasks(testContext(t), c.user, c.q)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		wantKind(t, err, service.KindInvalid)
		if msg := err.(*service.Error).Message; msg != "invalid page token" {
			t.Errorf("%s: message %q", name, msg)
		}
	}
}

// testPagePastTheEnd follows a token whose tasks were deleted since.
func testPagePastTheEnd(t *testing.T, s *Store) {
	user := newUser()
	var tasks []service.Task
	for i := range 3 {
		tasks = append(tasks, mustCreate(t, s, user, service.NewTask{Title: fmt.Sprint("t", i)}))
	}
	q := service.ListQuery{PageSize: 2, Order: service.OrderCreateTimeAsc}
	q.PageToken = mustList(t, s, user, q).NextPageToken
	if err := s.DeleteTask(testContext(t), user, tasks[2].ID, ""); err != nil {
		t.Fatal(err)
	}
	page := mustList(t, s, user, q)
	if len(page.Tasks) != 0 || page.NextPageToken != "" || page.TotalSize != 2 {
		t.Errorf("page past the end: %+v", page)
	}
}

func with(q service.ListQuery, change func(*service.ListQuery)) service.ListQuery {
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
					nt := service.NewTask{Title: fmt.Sprintf("t%03d", crng.IntN(40)), Priority: service.Priority(crng.IntN(4))}
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
						if err := s.DeleteTask(testContext(t), user, victim, ""); err != nil && service.KindOf(err) != service.KindNotFound {
							t.Errorf("churn delete: %v", err)
							return
						}
					}
					churns.Add(1)
				}
			}()
			seen := map[string]bool{}
			q := service.ListQuery{Order: o, PageSize: 4}
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
