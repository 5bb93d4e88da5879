package storage

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/example/tasks"
)

// TestSchemaLimits checks that the CHECK constraints of each database's
// migrations allow exactly what the domain's limits allow: a row at the
// limit is stored, one past it is refused, counted in characters (é is two
// bytes). The rows are written directly, past the domain's own checks.
// Neither schema bounds the length of one tag (that would take a function
// per row, a third of an insert's cost on PostgreSQL): the domain is all
// that does.
func TestSchemaLimits(t *testing.T) {
	t.Parallel()
	limits := []struct {
		name  string
		limit int
		set   func(r *taskRow, n int)
	}{
		{"user id", tasks.MaxUserIDLen, func(r *taskRow, n int) { r.UserID = strings.Repeat("é", n) }},
		{"title", tasks.MaxTitleLen, func(r *taskRow, n int) { r.Title = strings.Repeat("é", n) }},
		{"description", tasks.MaxDescriptionLen, func(r *taskRow, n int) { r.Description = strings.Repeat("é", n) }},
		{"tags", tasks.MaxTags, func(r *taskRow, n int) {
			r.Tags = nil
			for i := range n {
				r.Tags = append(r.Tags, fmt.Sprint("tag", i))
			}
		}},
		{"priority", int(tasks.PriorityHigh), func(r *taskRow, n int) { r.Priority = int16(n) }},
	}
	for _, b := range []backend{backends[0], backends[2]} { // postgres, sqlite
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			s := mustMigratedStore(t, b)
			for _, l := range limits {
				t.Run(l.name, func(t *testing.T) {
					if err := insertRow(t, s, l.set, l.limit); err != nil {
						t.Errorf("at the limit (%d): %v", l.limit, err)
					}
					wantKind(t, insertRow(t, s, l.set, l.limit+1), tasks.KindInvalid)
				})
			}
		})
	}
}

// insertRow stores a valid task changed by set(n), bypassing the domain.
func insertRow(tb testing.TB, s *Store, set func(*taskRow, int), n int) error {
	tb.Helper()
	row, err := newRow(newUser(), tasks.NewTask{Title: "limits"})
	if err != nil {
		tb.Fatal(err)
	}
	row.stamped(time.Now())
	row.ChangeSeq = 1
	set(&row, n)
	return s.run(testContext(tb), writeTx, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(&row).Exec(ctx)
		return err
	})
}
