package storage

import (
	"fmt"
	"testing"

	"github.com/example/tasks"
)

// BenchmarkStore measures each operation on each backend. The user has
// 2,100 tasks among 20 other users' 100 each; lists use pages of 20, so
// "ListPage101" is the page after 100 others (keyset: it should cost what
// the first page costs). Both list benchmarks include counting total_size
// over the user's 2,100 tasks.
func BenchmarkStore(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := mustMigratedStore(b, be)
			user := newUser()
			var some tasks.Task
			for i := range 2100 {
				some = mustCreate(b, s, user, tasks.NewTask{Title: fmt.Sprint("task ", i), Tags: []string{"bench"}})
			}
			for range 20 {
				other := newUser()
				for i := range 100 {
					mustCreate(b, s, other, tasks.NewTask{Title: fmt.Sprint("task ", i)})
				}
			}
			ctx := testContext(b)

			b.Run("Get", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.GetTask(ctx, user, some.ID); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Create", func(b *testing.B) {
				creator := newUser()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := s.CreateTask(ctx, creator, tasks.NewTask{Title: "new", Tags: []string{"a", "b"}}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Update", func(b *testing.B) {
				// Another user's task: thousands of row versions of one of
				// the listed tasks would slow the list benchmarks down.
				updater := newUser()
				some := mustCreate(b, s, updater, tasks.NewTask{Title: "one"})
				titles := []string{"one", "two"}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					if _, err := s.UpdateTask(ctx, updater, some.ID, tasks.TaskPatch{Title: &titles[i%2]}); err != nil {
						b.Fatal(err)
					}
				}
			})
			q := tasks.ListQuery{PageSize: 20}
			b.Run("ListFirstPage", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if page, err := s.ListTasks(ctx, user, q); err != nil || len(page.Tasks) != 20 {
						b.Fatal(err)
					}
				}
			})
			deep := q
			for range 100 {
				deep.PageToken = mustList(b, s, user, deep).NextPageToken
			}
			b.Run("ListPage101", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if page, err := s.ListTasks(ctx, user, deep); err != nil || len(page.Tasks) != 20 {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
